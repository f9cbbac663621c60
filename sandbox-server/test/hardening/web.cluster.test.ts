// Hardening — the web surface on the real server and cluster: probing ids, hostile paths and bodies, hostile
// terminal frames and connection floods. Each test states the attack and asserts the exact outcome.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { kubectlRaw } from '../../../tests/support/kubectl.ts';
import { DEFAULT_PROBE_BUDGET } from '../../src/http/probe-limit.ts';
import { SESSION_COOKIE } from '../../src/http/session.ts';
import type { RunningServer } from '../../src/server.ts';
import { MAX_UPGRADE_HEADERS } from '../../src/terminal/upgrade.ts';
import { Learner, ORIGIN, startTestServer, TerminalClient } from '../harness.ts';

const TERMINALS_PER_SESSION = 8;

let server: RunningServer;
let a: Learner;
let b: Learner;
let sandboxA: { id: string; namespace: string };
let sandboxB: { id: string; namespace: string };

const inToolbox = (ns: string, script: string) =>
  kubectlRaw(['-n', ns, 'exec', 'toolbox', '-c', 'shell', '--', 'bash', '-c', script]);

/** A terminal upgrade as a hostile client would send it: the status, its headers, and the client when it opened. */
function upgrade(
  id: string,
  options: { cookie: string; query?: string; headers?: Record<string, string> },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; client?: TerminalClient }> {
  const ws = new WebSocket(
    `${server.url.replace('http', 'ws')}/api/sandboxes/${id}/terminal?${options.query ?? 'cols=100&rows=30'}`,
    { headers: { cookie: options.cookie, origin: ORIGIN, ...options.headers }, perMessageDeflate: false },
  );
  const client = new TerminalClient(ws);
  client.ready.catch(() => undefined);
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => resolve({ status: 101, headers: {}, client }));
    ws.once('error', () => resolve({ status: -1, headers: {} }));
  });
}

/** The close code the server sends after `send` puts a hostile frame on an open terminal. */
async function closeCodeAfter(send: (ws: WebSocket) => void): Promise<number> {
  const terminal = await a.terminal(sandboxA.id);
  const closed = new Promise<number>((resolve) => terminal.ws.once('close', (code) => resolve(code)));
  terminal.ws.on('error', () => undefined);
  send(terminal.ws);
  return closed;
}

async function healthy(): Promise<void> {
  const response = await fetch(`${server.url}/healthz`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok' });
}

/** Asks the shell for its size until it answers `rows cols`. */
async function sttySize(terminal: TerminalClient, expected: string): Promise<void> {
  for (let i = 0; i < 20 && !terminal.output.includes(expected); i++) {
    terminal.type('stty size\r');
    await new Promise((r) => setTimeout(r, 250));
  }
  await terminal.waitFor(expected);
}

beforeAll(async () => {
  ({ server } = await startTestServer({ SIDECAR_LAB_MAX_TERMINALS_PER_SESSION: String(TERMINALS_PER_SESSION) }));
  a = new Learner(server.url);
  b = new Learner(server.url);
  const [ra, rb] = await Promise.all([
    a.request('POST', '/api/sandboxes', {}),
    b.request('POST', '/api/sandboxes', {}),
  ]);
  expect([ra!.status, rb!.status]).toEqual([201, 201]);
  sandboxA = ra!.json;
  sandboxB = rb!.json;
});

afterAll(async () => {
  await Promise.all(
    [sandboxA, sandboxB].filter(Boolean).map((s) => kubectlRaw(['delete', 'namespace', s.namespace, '--wait=false'])),
  );
  await server?.close();
});

describe("WEB-4: another learner's sandbox, and guessing ids", () => {
  it("A gets 404 from B's sandbox, check, setup, files and terminal, the same as for an id that never existed", async () => {
    const missing = '0123456789abcdef';
    for (const [method, path, body] of [
      ['GET', '', undefined],
      ['POST', '/checks/first-sidecar', {}],
      ['POST', '/exercises/first-sidecar/setup', {}],
      ['POST', '/files', { path: 'planted.yaml', content: 'x' }],
    ] as const) {
      const theirs = await a.request(method, `/api/sandboxes/${sandboxB.id}${path}`, body);
      const none = await a.request(method, `/api/sandboxes/${missing}${path}`, body);
      expect([theirs.status, theirs.json.error.message], `${method} ${path}`).toEqual([404, 'no such sandbox']);
      expect([none.status, none.json.error.message]).toEqual([404, 'no such sandbox']);
    }
    const terminal = await upgrade(sandboxB.id, { cookie: a.cookie });
    expect(terminal.status).toBe(404);
    expect((await inToolbox(sandboxB.namespace, 'ls /home/learner/planted.yaml 2>&1; true')).stdout).toMatch(
      /No such file/,
    );
  });

  it('a session that keeps guessing gets 429 with Retry-After on the API and on the terminal upgrade', async () => {
    const guesser = new Learner(server.url);
    await guesser.request('GET', '/api/progress');
    const guess = () => Array.from({ length: 16 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
    // Half the budget through the terminal, half through the API: both count toward the same limit.
    const half = DEFAULT_PROBE_BUDGET.perSession / 2;
    for (let i = 0; i < half; i++) expect((await upgrade(guess(), { cookie: guesser.cookie })).status).toBe(404);
    for (let i = 0; i < half; i++) expect((await guesser.request('GET', `/api/sandboxes/${guess()}`)).status).toBe(404);
    const api = await fetch(`${server.url}/api/sandboxes/${guess()}`, { headers: { cookie: guesser.cookie } });
    expect(api.status).toBe(429);
    expect(Number(api.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    const ws = await upgrade(guess(), { cookie: guesser.cookie });
    expect(ws.status).toBe(429);
    expect(Number(ws.headers['retry-after'])).toBeGreaterThan(0);
    // Everyone else carries on.
    expect((await a.request('GET', `/api/sandboxes/${sandboxA.id}`)).status).toBe(200);
  });
});

describe('WEB-5: CreateFile stays inside the home folder', () => {
  it('writes a nested file under /home/learner', async () => {
    const written = await a.request('POST', `/api/sandboxes/${sandboxA.id}/files`, {
      path: 'pods/web-5.yaml',
      content: 'kind: Pod\n',
    });
    expect(written.status).toBe(204);
    expect((await inToolbox(sandboxA.namespace, 'cat /home/learner/pods/web-5.yaml')).stdout).toBe('kind: Pod\n');
  });

  it('refuses (409) to follow a symlink the learner made out of the home folder, and writes nothing', async () => {
    await inToolbox(
      sandboxA.namespace,
      'ln -sfn /tmp /home/learner/out && ln -sfn /tmp/web5-victim /home/learner/link.yaml',
    );
    for (const path of ['out/escaped.yaml', 'link.yaml', 'out/deeper/x.yaml']) {
      const refused = await a.request('POST', `/api/sandboxes/${sandboxA.id}/files`, { path, content: 'x' });
      expect([refused.status, refused.json.error.message], path).toEqual([
        409,
        `could not write ${path}: it leads outside /home/learner`,
      ]);
    }
    const tmp = await inToolbox(sandboxA.namespace, 'ls -A /tmp');
    expect(tmp.stdout).not.toMatch(/escaped|web5-victim|deeper/);
  });

  it('refuses `..`, absolute paths and NUL with 400, and nothing appears outside the home folder', async () => {
    for (const path of ['../escaped.yaml', '/tmp/escaped.yaml', 'a\u0000b']) {
      const refused = await a.request('POST', `/api/sandboxes/${sandboxA.id}/files`, { path, content: 'x' });
      expect(refused.status, JSON.stringify(path)).toBe(400);
    }
    expect((await inToolbox(sandboxA.namespace, 'ls /home /tmp')).stdout).not.toMatch(/escaped/);
  });
});

describe('WEB-6: hostile bodies over real HTTP', () => {
  it('a 10 MB body, with and without Content-Length, is refused with 413 and the server answers right after', async () => {
    for (const chunked of [false, true]) {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${server.url}/api/sandboxes/${sandboxA.id}/files`, {
          method: 'POST',
          headers: {
            cookie: a.cookie,
            'content-type': 'application/json',
            ...(chunked ? {} : { 'content-length': String(10 * 1024 * 1024) }),
          },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        // The server may answer and close before all 10 MB are sent; that is the point.
        req.on('error', (error) =>
          error.message.includes('EPIPE') || error.message.includes('ECONNRESET') ? undefined : reject(error),
        );
        const chunk = Buffer.alloc(1024 * 1024, 'x');
        for (let i = 0; i < 10; i++) req.write(chunk);
        req.end();
      });
      expect(status, chunked ? 'chunked' : 'content-length').toBe(413);
      expect(JSON.parse(body).error.message).toBe('request bodies are limited to 96 KiB');
      await healthy();
    }
  });

  it('malformed JSON is 400 with a plain message naming the problem', async () => {
    const response = await a.request(
      'POST',
      `/api/sandboxes/${sandboxA.id}/checks/first-sidecar`,
      undefined,
      '{"answer":',
    );
    expect([response.status, response.json.error.message]).toEqual([
      400,
      'the request body is not valid JSON: Unexpected end of JSON input',
    ]);
    await healthy();
  });
});

describe('RES-7: hostile terminal frames', () => {
  it('a 10 MB binary frame and a 1 MB JSON control frame are closed with 1009', async () => {
    expect(await closeCodeAfter((ws) => ws.send(Buffer.alloc(10 * 1024 * 1024, 7), { binary: true }))).toBe(1009);
    const control = JSON.stringify({ type: 'resize', cols: 80, rows: 24, pad: 'x'.repeat(1024 * 1024) });
    expect(await closeCodeAfter((ws) => ws.send(control))).toBe(1009);
    await healthy();
  });

  it('invalid UTF-8 in a text frame is closed with 1007', async () => {
    expect(await closeCodeAfter((ws) => ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d]), { binary: false }))).toBe(
      1007,
    );
    await healthy();
  });

  it('absurd sizes (1e9, negative, NaN, Infinity, fractions) are ignored; the terminal keeps its size', async () => {
    // On the handshake: out-of-range sizes fall back to 100×30.
    const opened = await upgrade(sandboxA.id, { cookie: a.cookie, query: 'cols=1e9&rows=-5' });
    expect(opened.status).toBe(101);
    const terminal = opened.client!;
    await terminal.ready;
    await sttySize(terminal, '30 100');
    for (const frame of [
      '{"type":"resize","cols":1e9,"rows":1e9}',
      '{"type":"resize","cols":-1,"rows":-1}',
      '{"type":"resize","cols":"NaN","rows":"NaN"}',
      '{"type":"resize","cols":NaN,"rows":NaN}',
      '{"type":"resize","cols":1e400,"rows":24}',
      '{"type":"resize","cols":80.5,"rows":24}',
      '{"type":"resize","cols":0,"rows":0}',
    ]) {
      terminal.ws.send(frame);
    }
    terminal.output = '';
    await sttySize(terminal, '30 100');
    // A sane resize still works afterwards.
    terminal.resize(120, 40);
    await sttySize(terminal, '40 120');
    await terminal.close();
  });

  it('10,000 frames in a burst are all handled in order; the terminal and server stay responsive', async () => {
    const terminal = await a.terminal(sandboxA.id);
    let pongs = 0;
    terminal.ws.on('message', (data, isBinary) => {
      if (!isBinary && JSON.parse(data.toString()).type === 'pong') pongs++;
    });
    for (let i = 0; i < 9_000; i++) terminal.ws.send(JSON.stringify({ type: 'ping', t: i }));
    // The last thousand are keystrokes, one byte per frame.
    const command = 'echo burst-$((500+500))';
    for (const ch of `${command}${' '.repeat(1000 - command.length - 1)}\r`) terminal.type(ch);
    await terminal.waitFor('burst-1000', 30_000);
    while (pongs < 9_000) await new Promise((r) => setTimeout(r, 50));
    expect(pongs).toBe(9_000);
    await terminal.close();
    await healthy();
  });

  it('a ping flood from a client that never reads is not queued in server memory: pongs are dropped', async () => {
    const terminal = await a.terminal(sandboxA.id);
    let pongs = 0;
    terminal.ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString().startsWith('{"type":"pong"')) pongs++;
    });
    const socket = (terminal.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    // About 28 MB of pongs would be owed: far more than the kernel's socket buffers hold. Sent in batches, each
    // taken by the server before the next, so the client's own write queue stays small.
    const batches = 2_000;
    const perBatch = 500;
    const ping = JSON.stringify({ type: 'ping' });
    for (let i = 0; i < batches; i++) {
      for (let j = 1; j < perBatch; j++) terminal.ws.send(ping);
      await new Promise((resolve) => terminal.ws.send(ping, resolve));
    }
    terminal.type('echo after-flood-$((6*7))\r');
    socket.resume();
    // Frames arrive in order: once the echo is there, every pong the server kept has arrived too.
    await terminal.waitFor('after-flood-42', 60_000);
    expect(pongs).toBeGreaterThan(0);
    expect(pongs).toBeLessThan((batches * perBatch) / 2);
    await terminal.close();
    await healthy();
  });
});

describe('RES-7: connection floods', () => {
  it(`500 WebSockets from one session: ${TERMINALS_PER_SESSION} open, the rest get 429 before the upgrade`, async () => {
    const attempts = await Promise.all(Array.from({ length: 500 }, () => upgrade(sandboxB.id, { cookie: b.cookie })));
    const opened = attempts.filter((x) => x.status === 101);
    const refused = attempts.filter((x) => x.status === 429);
    expect(opened).toHaveLength(TERMINALS_PER_SESSION);
    expect(refused).toHaveLength(500 - TERMINALS_PER_SESSION);
    expect(refused[0]!.headers['retry-after']).toBe('5');
    await Promise.all(opened.map((x) => x.client!.ready));
    await healthy();
    // Another session is not affected by B's flood.
    const other = await a.terminal(sandboxA.id);
    await other.close();
    // Closing one frees its slot.
    await opened[0]!.client!.close();
    let again: Awaited<ReturnType<typeof upgrade>> | undefined;
    for (let i = 0; i < 40 && again?.status !== 101; i++) {
      again = await upgrade(sandboxB.id, { cookie: b.cookie });
      if (again.status !== 101) await new Promise((r) => setTimeout(r, 50));
    }
    expect(again!.status).toBe(101);
    await Promise.all([again!.client!, ...opened.slice(1).map((x) => x.client!)].map((c) => c.close()));
  });

  it(`a handshake with more than ${MAX_UPGRADE_HEADERS} headers, or 20 KB of them, is refused with 431`, async () => {
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-pad-${i}`, '1']));
    const manyHeaders = await upgrade(sandboxA.id, { cookie: a.cookie, headers: many });
    expect(manyHeaders.status).toBe(431);
    const big = await upgrade(sandboxA.id, { cookie: a.cookie, headers: { 'x-pad': 'y'.repeat(20 * 1024) } });
    expect(big.status).toBe(431);
    await healthy();
  });
});

describe('WEB-3: session fixation', () => {
  it('a forged cookie opens no terminal (401); joining a workshop keeps the session and its sandbox', async () => {
    const victimId = a.cookie.split('=')[1]!.split('.')[0]!;
    const forged = await upgrade(sandboxA.id, { cookie: `${SESSION_COOKIE}=${victimId}.${'A'.repeat(43)}` });
    expect(forged.status).toBe(401);

    const instructor = new Learner(server.url);
    const workshop = await instructor.request('POST', '/api/workshops', {
      name: 'Web hardening',
      capacity: 2,
      duration: '1h',
    });
    expect(workshop.status).toBe(201);
    const response = await fetch(`${server.url}/api/workshops/join`, {
      method: 'POST',
      headers: { cookie: a.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ code: workshop.json.code, name: 'Ada' }),
    });
    expect(response.status).toBe(201);
    // No new cookie: the sandbox is bound to this session, and nothing about the session changed hands.
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(((await response.json()) as { sandbox: { id: string } }).sandbox.id).toBe(sandboxA.id);
    expect((await a.request('GET', `/api/sandboxes/${sandboxA.id}`)).status).toBe(200);
    // The instructor's browser session gains nothing over the learner's sandbox.
    expect((await instructor.request('GET', `/api/sandboxes/${sandboxA.id}`)).status).toBe(404);
  });
});
