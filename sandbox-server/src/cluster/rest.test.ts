// The REST client's pure parts (query strings, errors, watch lines), and its answers from a local plain-HTTP server.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergePatch } from './apis.ts';
import { apiMessage, createKube, isConflict, isNotFound, isUnavailable } from './kube.ts';
import { KubeConfig } from './kubeconfig-file.ts';
import { KubeApiError, retryAfter, withQuery } from './rest.ts';
import { watchLineSplitter } from './watch.ts';

describe('withQuery', () => {
  it('encodes values, repeats arrays and leaves out undefined', () => {
    expect(withQuery('/p', { a: 'x y', b: undefined, c: ['1', '2'], d: false, e: 3 })).toBe(
      '/p?a=x+y&c=1&c=2&d=false&e=3',
    );
    expect(withQuery('/p', {})).toBe('/p');
  });
});

describe('KubeApiError', () => {
  it('carries the status code and the Status body, which the classifiers read', () => {
    const error = new KubeApiError(404, { kind: 'Status', message: 'namespaces "x" not found' }, 'GET /api/v1/x');
    expect(error.message).toBe('GET /api/v1/x: HTTP 404: namespaces "x" not found');
    expect(isNotFound(error)).toBe(true);
    expect(isConflict(error)).toBe(false);
    expect(apiMessage(error)).toBe('namespaces "x" not found');
    expect(isUnavailable(new KubeApiError(503, 'upstream down', 'GET /'))).toBe(true);
    expect(isUnavailable(error)).toBe(false);
  });
});

describe('watchLineSplitter', () => {
  it('emits one event per line, across chunk boundaries', () => {
    const events: unknown[] = [];
    const split = watchLineSplitter((e) => events.push(e.type));
    split('{"type":"ADDED","object":{}}\n{"type":"MOD');
    split('IFIED","object":{}}\n\n');
    expect(events).toEqual(['ADDED', 'MODIFIED']);
    expect(() => split('not json\n')).toThrow();
  });
});

// A stand-in HTTP endpoint to see what goes over the wire; cluster behaviour itself is tested on the real cluster.
let server: Server;
let busyAnswers = 0;
let seen: { method?: string; url?: string; headers: Record<string, unknown>; body: string }[] = [];
let kc: KubeConfig;
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url?.startsWith('/prefix/api/v1/namespaces/busy') && busyAnswers-- > 0) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
        return res.end('{"kind":"Status","code":429,"message":"too many requests"}');
      }
      if (req.url?.startsWith('/prefix/api/v1/nodes')) {
        // Three pages: the continue token says which page comes next.
        const page = Number(new URL(req.url, 'http://x').searchParams.get('continue') ?? '0');
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({
            metadata: { resourceVersion: '7', ...(page < 2 ? { continue: String(page + 1) } : {}) },
            items: [{ metadata: { name: `node-${page}` } }],
          }),
        );
      }
      if (req.url?.startsWith('/prefix/api/v1/namespaces/gone')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end('{"kind":"Status","code":404,"message":"namespaces \\"gone\\" not found"}');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"metadata":{"name":"x"}}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  kc = new KubeConfig({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}/prefix/` }],
    users: [{ name: 'u', token: 't', impersonate: 'checker' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});
afterAll(() => server.close());

describe('RestClient on the wire', () => {
  it('sends merge patches with their content type, auth and impersonation, below the server path', async () => {
    seen = [];
    const { core } = createKube(kc);
    await core.patchNamespace({ name: 'x', body: { metadata: { labels: { a: 'b' } } } }, mergePatch);
    await core.listNamespace({ labelSelector: 'a=b,c' });
    expect(seen[0]).toMatchObject({
      method: 'PATCH',
      url: '/prefix/api/v1/namespaces/x',
      headers: {
        'content-type': 'application/merge-patch+json',
        authorization: 'Bearer t',
        'impersonate-user': 'checker',
      },
      body: '{"metadata":{"labels":{"a":"b"}}}',
    });
    expect(seen[1]).toMatchObject({
      method: 'GET',
      url: '/prefix/api/v1/namespaces?labelSelector=a%3Db%2Cc&limit=500',
    });
  });

  it('throws KubeApiError with the parsed Status for an error status', async () => {
    const error = await createKube(kc)
      .core.readNamespace({ name: 'gone' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(isNotFound(error)).toBe(true);
    expect(apiMessage(error)).toBe('namespaces "gone" not found');
  });

  it('waits as Retry-After says on 429 and tries again, a bounded number of times', async () => {
    const { core } = createKube(kc);
    busyAnswers = 2;
    seen = [];
    await expect(core.readNamespace({ name: 'busy' })).resolves.toMatchObject({ metadata: { name: 'x' } });
    expect(seen.map((r) => r.url)).toEqual(Array(3).fill('/prefix/api/v1/namespaces/busy'));

    busyAnswers = 10; // more refusals than the client retries: the 429 reaches the caller
    seen = [];
    const error = await core.readNamespace({ name: 'busy' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).code).toBe(429);
    expect(seen).toHaveLength(4);
    busyAnswers = 0;
  });

  it('pages through a large list with continue and returns every item', async () => {
    seen = [];
    const nodes = await createKube(kc).core.listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual(['node-0', 'node-1', 'node-2']);
    expect(seen.map((r) => r.url)).toEqual([
      '/prefix/api/v1/nodes?limit=500',
      '/prefix/api/v1/nodes?limit=500&continue=1',
      '/prefix/api/v1/nodes?limit=500&continue=2',
    ]);
  });
});

describe('retryAfter', () => {
  it('reads seconds and HTTP dates, defaults to 1 s and caps at 10 s', () => {
    expect(retryAfter('2')).toBe(2000);
    expect(retryAfter(undefined)).toBe(1000);
    expect(retryAfter('soon')).toBe(1000);
    expect(retryAfter('3600')).toBe(10_000);
    expect(retryAfter(new Date(5_000).toUTCString(), 1_000)).toBe(4000);
  });
});
