// Test harness: the real server against the real local cluster, plus a learner client with a cookie jar.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.ts';
import { SERVER_NODE_FLAGS } from '../src/node-flags.ts';
import { type RunningServer, startServer } from '../src/server.ts';

export const ORIGIN = 'http://lab.test';

/** A fresh instance name, so this server's warm pool is its own even when other test files share the cluster. */
export const testInstance = () => `test-${randomBytes(4).toString('hex')}`;

// biome-ignore lint/suspicious/noExplicitAny: tests read response fields one by one and assert each.
type Json = any;

/** Settings every test server starts with; a test overrides the ones it is about. */
function testServerEnv(dataDir: string): Record<string, string> {
  return {
    SIDECAR_LAB_DATA_DIR: dataDir,
    SIDECAR_LAB_SESSION_SECRET: 'test-secret-test-secret-test-secret-!!',
    SIDECAR_LAB_ALLOWED_ORIGINS: ORIGIN,
    SIDECAR_LAB_POOL_SIZE: '0',
    SIDECAR_LAB_INSTANCE: testInstance(),
    // The cap counts every sandbox on the cluster; tests that are not about it must not trip on another file's.
    SIDECAR_LAB_MAX_SANDBOXES: '500',
    LOG_LEVEL: 'warn',
    // Set in the environment, the servers under test keep their state in that PostgreSQL database instead of SQLite.
    ...(process.env.SIDECAR_LAB_DATABASE_URL ? { SIDECAR_LAB_DATABASE_URL: process.env.SIDECAR_LAB_DATABASE_URL } : {}),
  };
}

export async function startTestServer(
  env: Record<string, string> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'slab-server-')),
) {
  const config = loadConfig({ PORT: '0', ...testServerEnv(dataDir), ...env });
  const server: RunningServer = await startServer(config, pino({ level: 'warn' }));
  return { server, dataDir };
}

/** One learner: keeps the session cookie the server issues, like a browser would. */
export class Learner {
  cookie = '';
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  async request(method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; json: Json }> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { cookie: this.cookie, 'content-type': 'application/json' },
      ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await response.text();
    let json: Json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: response.status, json };
  }

  /**
   * Follows the sandbox's change stream as the site does (`GET /api/sandboxes/:id/changes`), counting change events;
   * resolves once the stream said hello, so a change made after that is seen.
   */
  async changes(id: string): Promise<{ count: () => number; stop: () => void }> {
    const controller = new AbortController();
    const response = await fetch(`${this.base}/api/sandboxes/${id}/changes`, {
      headers: { cookie: this.cookie },
      signal: controller.signal,
    });
    if (response.status !== 200) throw new Error(`the change stream answered ${response.status}`);
    let hello = false;
    let changes = 0;
    readServerSentEvents(response.body!, (event) => {
      if (event === 'hello') hello = true;
      if (event === 'change') changes++;
    });
    const deadline = Date.now() + 10_000;
    while (!hello) {
      if (Date.now() > deadline) throw new Error('the change stream never said hello');
      await new Promise((r) => setTimeout(r, 50));
    }
    return { count: () => changes, stop: () => controller.abort() };
  }

  /** Opens a terminal; `tab` picks the tab (its own tmux session), the first when not given. */
  terminal(id: string, origin = ORIGIN, tab?: number): Promise<TerminalClient> {
    const query = `cols=100&rows=30${tab === undefined ? '' : `&tab=${tab}`}`;
    const ws = new WebSocket(`${this.base.replace('http', 'ws')}/api/sandboxes/${id}/terminal?${query}`, {
      headers: { cookie: this.cookie, origin },
    });
    return new Promise((resolve, reject) => {
      const client = new TerminalClient(ws);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
      client.ready.then(() => resolve(client), reject);
    });
  }
}

/** Reads a Server-Sent Events body in the background, calling `onEvent` with each event's name and data until it ends. */
export function readServerSentEvents(
  body: NonNullable<Response['body']>,
  onEvent: (event: string, data: string | undefined) => void,
): void {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    for (;;) {
      // An aborted stream rejects the read: that is its end, as for the browser's EventSource.
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: (.*)$/m.exec(event)?.[1];
        if (name) onEvent(name, /^data: (.*)$/m.exec(event)?.[1]);
      }
    }
  })();
}

export class TerminalClient {
  output = '';
  readonly ready: Promise<void>;
  readonly ws: WebSocket;
  constructor(ws: WebSocket) {
    this.ws = ws;
    this.ready = new Promise((resolve, reject) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) this.output += data.toString();
        else if (JSON.parse(data.toString()).type === 'ready') resolve();
      });
      ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
    });
  }
  type(text: string): void {
    this.ws.send(Buffer.from(text), { binary: true });
  }
  resize(cols: number, rows: number): void {
    this.ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  }
  async waitFor(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const test = () => (typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output));
    while (!test()) {
      if (Date.now() > deadline)
        throw new Error(`terminal never showed ${pattern}; it shows:\n${this.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.output;
  }
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** The real server as a separate process, so a test can SIGKILL it or read its memory from /proc. */
export interface ChildServer {
  url: string;
  pid: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
  rssKiB(): number;
}

export async function startChildServer(
  env: Record<string, string>,
  dataDir: string,
  port?: number,
): Promise<ChildServer> {
  const { spawn } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { createServer } = await import('node:net');
  const freePort =
    port ??
    (await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    }));
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, 'sandbox-server/src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(freePort),
      ...testServerEnv(dataDir),
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${freePort}`;
  // Generous: on a loaded 2-core machine a start (which also checks the cluster's objects) can take a while.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not start within 120 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    kill: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
    rssKiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0),
  };
}

/** How many tmux clients are attached to the learner's session in the toolbox (one per live terminal). */
export async function tmuxClients(namespace: string): Promise<number> {
  const { kubectl } = await import('../../tests/support/kubectl.ts');
  const out = await kubectl(['-n', namespace, 'exec', 'toolbox', '-c', 'shell', '--', 'tmux', 'list-clients']);
  return out.split('\n').filter(Boolean).length;
}

/** Deletes (without waiting) the given namespaces and every one a test server instance made, e.g. its warm pool. */
export async function deleteInstanceNamespaces(instance: string, also: Iterable<string> = []): Promise<void> {
  const { kubectlRaw } = await import('../../tests/support/kubectl.ts');
  const ours = await kubectlRaw(['get', 'ns', '-l', `sidecar-lab.dev/instance=${instance}`, '-o', 'name']);
  const names = new Set([
    ...also,
    ...ours.stdout
      .split('\n')
      .filter(Boolean)
      .map((n) => n.replace('namespace/', '')),
  ]);
  if (names.size) await kubectlRaw(['delete', 'namespace', ...names, '--wait=false']);
}
