// Flow control of exec stdin against a WebSocket peer that stops reading: the writer must be told to wait, and
// nothing may be lost once the peer reads again. (What Kubernetes does with the bytes is tested on the real cluster.)
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { CHANNEL, decodeFrame, EXEC_PROTOCOLS, Exec, STDIN_HIGH_WATER } from './exec-socket.ts';
import { KubeConfig } from './kubeconfig-file.ts';

const CHUNK = 64 * 1024;
const TOTAL = 32 * 1024 * 1024;

let server: Server;
let peer: { socket: Socket; received: () => number } | undefined;
let kc: KubeConfig;

beforeAll(async () => {
  server = createServer();
  const wss = new WebSocketServer({ server, handleProtocols: () => EXEC_PROTOCOLS[0] });
  wss.on('connection', (ws, request) => {
    let received = 0;
    ws.on('message', (data) => {
      const frame = decodeFrame(data as Buffer);
      if (frame?.channel === CHANNEL.stdin) received += frame.payload.length;
    });
    const socket = request.socket as Socket;
    socket.pause(); // a peer that does not read: like an API server whose container does not take input
    peer = { socket, received: () => received };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  kc = new KubeConfig({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}` }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});
afterAll(() => server.close());

describe('exec stdin flow control', () => {
  it('tells the writer to wait while the peer does not read, and delivers every byte once it does', async () => {
    const stdin = new PassThrough();
    const ws = await new Exec(kc).exec('ns', 'pod', 'c', ['cat'], null, null, stdin, false);
    let accepted = 0;
    let refused = false;
    while (accepted < TOTAL) {
      const more = stdin.write(Buffer.alloc(CHUNK, 'a'));
      accepted += CHUNK;
      if (!more) {
        refused = true;
        break;
      }
      await new Promise((r) => setImmediate(r));
    }
    // The writer was stopped long before 32 MiB, and what waits in our process is bounded by the high-water marks.
    expect(refused).toBe(true);
    expect(accepted).toBeLessThan(TOTAL);
    expect(stdin.isPaused()).toBe(true);
    expect(ws.bufferedAmount).toBeLessThan(STDIN_HIGH_WATER + 2 * CHUNK);

    // The peer reads again: the stream resumes by itself and every accepted byte arrives.
    peer!.socket.resume();
    await new Promise<void>((resolve) => stdin.once('drain', resolve));
    const deadline = Date.now() + 10_000;
    while (peer!.received() < accepted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(peer!.received()).toBe(accepted);
    ws.close();
  });
});
