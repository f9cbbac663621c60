// A small REST client for the Kubernetes API: node:https with keep-alive, a timeout per request, JSON in and out.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { type Connection, connectionFor, forgetCachedCredentials } from './credentials.ts';
import type { KubeConfig } from './kubeconfig-file.ts';

/** The API server answered with an error status; `code` is the HTTP status, `body` the parsed Status (or text). */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly code: number;
  readonly body: unknown;
  constructor(code: number, body: unknown, what: string) {
    const message = (body as { message?: unknown } | undefined)?.message;
    const detail = typeof message === 'string' ? message : typeof body === 'string' ? body.slice(0, 300) : '';
    super(`${what}: HTTP ${code}${detail ? `: ${detail}` : ''}`);
    this.code = code;
    this.body = body;
  }
}

/** Query parameters; an array repeats the key (`command=a&command=b`), undefined leaves it out. */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

export interface ApiRequest {
  method?: string;
  /** Path below the server URL, e.g. `/api/v1/namespaces/x`. */
  path: string;
  query?: Query;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Bound on the whole exchange, body included; the client's default when unset. */
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** An answer read as bytes (see `RestClient.bytes`). */
export interface BytesResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** How often one request is tried again after 429 Too Many Requests. */
const MAX_429_RETRIES = 3;

/**
 * The wait a `Retry-After` header asks for, in ms (seconds or an HTTP date; 1 s when absent or unreadable, as
 * client-go does), capped at 10 s so a confused server cannot park a request.
 */
export function retryAfter(header: string | string[] | undefined, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return 1000;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 10_000) : 1000;
}

/** `path?query`, with each value URL-encoded and arrays repeated. */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one));
  }
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

/** The error a request fails with when it takes longer than its timeout. */
export function timeoutError(): Error {
  return Object.assign(new Error('no answer in time'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

// One keep-alive agent per server and TLS identity, shared by every client (checks make a client per run). Bounded:
// an exec plugin that rotates client certificates makes a new identity each time, and old ones must not pile up.
const agents = new Map<string, http.Agent>();
/** Agents kept at most; the least recently used one beyond it is retired (its requests in flight finish). */
export const MAX_AGENTS = 16;

function agentFor(connection: Connection): http.Agent {
  const { tls } = connection;
  const key = JSON.stringify([connection.server, tls.ca, tls.cert, tls.key, tls.rejectUnauthorized, tls.servername]);
  let agent = agents.get(key);
  if (agent) {
    agents.delete(key); // re-inserted below: Map order is then least recently used first
  } else {
    agent = connection.server.startsWith('https:')
      ? new https.Agent({ keepAlive: true, ...tls })
      : new http.Agent({ keepAlive: true });
  }
  agents.set(key, agent);
  for (const [oldKey, old] of agents) {
    if (agents.size <= MAX_AGENTS) break;
    agents.delete(oldKey);
    retire(old);
  }
  return agent;
}

/** An agent for one request on a connection of its own. */
function oneShotAgent(connection: Connection): http.Agent {
  return connection.server.startsWith('https:')
    ? new https.Agent({ keepAlive: false, ...connection.tls })
    : new http.Agent({ keepAlive: false });
}

/** Closes an agent's idle connections now and each busy one when its request is done, never cutting one short. */
function retire(agent: http.Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  agent.on('free', (socket) => socket.destroy());
}

/** How many keep-alive agents are held (for tests). */
export const agentCount = () => agents.size;

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // not JSON: a proxy's error page, say
  }
}

/** Talks to the API server of `kc`'s current context; every call resolves credentials afresh (plugins are cached). */
export class RestClient {
  readonly kc: KubeConfig;
  readonly defaultTimeoutMs: number;

  constructor(kc: KubeConfig, defaultTimeoutMs = 60_000) {
    this.kc = kc;
    this.defaultTimeoutMs = defaultTimeoutMs;
  }

  /** Sends a request and reads the whole answer, whatever its status; throws only when there is no answer. */
  async send(request: ApiRequest): Promise<ApiResponse> {
    // A 429 (API priority and fairness, or a busy server) says when to come back: wait that long, a few times, as
    // long as the wait stays within the request's own bound.
    let waitedMs = 0;
    const budgetMs = request.timeoutMs ?? this.defaultTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const response = await this.#sendOnce(request);
      const retryAfterMs = response.status === 429 ? retryAfter(response.headers['retry-after']) : undefined;
      if (retryAfterMs === undefined || attempt >= MAX_429_RETRIES || waitedMs + retryAfterMs > budgetMs) {
        return response;
      }
      await new Promise((r) => setTimeout(r, retryAfterMs));
      waitedMs += retryAfterMs;
    }
  }

  async #sendOnce(request: ApiRequest): Promise<ApiResponse> {
    const connection = await connectionFor(this.kc);
    const response = await this.#exchange(connection, request, true);
    if (response.status === 401 && connection.renewable) {
      // The plugin's credential or the file's token was revoked or rotated: get it afresh, once.
      forgetCachedCredentials();
      return this.#exchange(await connectionFor(this.kc), request, true);
    }
    return response;
  }

  /** Sends a request and parses the JSON answer; an error status throws KubeApiError. */
  async json<T>(request: ApiRequest): Promise<T> {
    const response = await this.send(request);
    if (response.status >= 300) throw this.#error(request, response);
    return JSON.parse(response.body) as T;
  }

  /** Like `json`, for text answers (Pod logs). */
  async text(request: ApiRequest): Promise<string> {
    const response = await this.send({ accept: '*/*', ...request });
    if (response.status >= 300) throw this.#error(request, response);
    return response.body;
  }

  /** Opens a streaming GET (a watch): resolves with the response once it is 2xx; abort with `signal`. No timeout. */
  async stream(request: ApiRequest, signal: AbortSignal): Promise<IncomingMessage> {
    const connection = await connectionFor(this.kc);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = this.#open(connection, request, resolve);
      outgoing.on('error', reject);
      if (signal.aborted) outgoing.destroy();
      else signal.addEventListener('abort', () => outgoing.destroy(), { once: true });
    });
    if ((response.statusCode ?? 0) >= 300) {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      throw this.#error(request, {
        status: response.statusCode ?? 0,
        body: Buffer.concat(chunks).toString('utf8'),
        headers: response.headers,
      });
    }
    return response;
  }

  /**
   * A GET whose answer is read as bytes, at most `maxBytes` of them (`undefined` past that) within the request's
   * timeout: for answers that are not the API server's own, such as a Pod's page through `pods/proxy`.
   */
  async bytes(request: ApiRequest, maxBytes: number): Promise<BytesResponse | undefined> {
    const connection = await connectionFor(this.kc);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      // A connection of its own, closed after the answer: a Pod that stalls or floods never holds (or poisons) a
      // kept-alive connection the server's own calls share.
      const outgoing = this.#open(
        connection,
        request,
        (response) => {
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              clearTimeout(timer);
              outgoing.destroy();
              resolve(undefined);
            } else chunks.push(chunk);
          });
          response.on('error', fail);
          response.on('end', () => {
            clearTimeout(timer);
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
          });
        },
        oneShotAgent(connection),
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      outgoing.on('error', fail);
      const timer = setTimeout(() => outgoing.destroy(timeoutError()), request.timeoutMs ?? this.defaultTimeoutMs);
    });
  }

  #error(request: ApiRequest, response: ApiResponse): KubeApiError {
    return new KubeApiError(response.status, parseBody(response.body), `${request.method ?? 'GET'} ${request.path}`);
  }

  #open(
    connection: Connection,
    request: ApiRequest,
    onResponse: (response: IncomingMessage) => void,
    agent: http.Agent = agentFor(connection),
  ) {
    const url = new URL(connection.server + withQuery(request.path, request.query));
    const body =
      request.body === undefined || typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    const headers: http.OutgoingHttpHeaders = { Accept: request.accept ?? 'application/json', ...connection.headers };
    if (body !== undefined) {
      headers['Content-Type'] = request.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const transport = url.protocol === 'https:' ? https : http;
    const outgoing = transport.request(url, { method: request.method ?? 'GET', headers, agent });
    outgoing.on('response', onResponse);
    outgoing.end(body);
    return outgoing;
  }

  #exchange(connection: Connection, request: ApiRequest, mayRetry: boolean): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(timedOut ? timeoutError() : error);
      };
      const outgoing = this.#open(connection, request, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: response.headers,
          });
        });
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive connection the server had just closed: a read can safely go again on a fresh one.
        const idempotent = (request.method ?? 'GET') === 'GET';
        if (mayRetry && idempotent && !timedOut && outgoing.reusedSocket && error.code === 'ECONNRESET') {
          clearTimeout(timer);
          this.#exchange(connection, request, false).then(resolve, reject);
          return;
        }
        fail(error);
      });
      const timer = setTimeout(() => {
        timedOut = true;
        outgoing.destroy(timeoutError());
      }, request.timeoutMs ?? this.defaultTimeoutMs);
    });
  }
}
