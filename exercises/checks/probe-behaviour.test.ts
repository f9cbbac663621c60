// Probe helpers: the port a probe asks, a probe command pointed away from a folder, and the freeze script's output.
import { describe, expect, it } from 'vitest';
import { ContainerSchema, ProbeSchema } from '../model.ts';
import { parseFrozenRun, pointPathsAt, probePort } from './probe-behaviour.ts';

describe('probePort', () => {
  const container = ContainerSchema.parse({ name: 'main-app', ports: [{ name: 'http', containerPort: 80 }] });

  it('reads numeric ports and resolves named ones', () => {
    expect(probePort(container, ProbeSchema.parse({ httpGet: { path: '/', port: 80 } }))).toBe(80);
    expect(probePort(container, ProbeSchema.parse({ tcpSocket: { port: 'http' } }))).toBe(80);
    expect(probePort(container, ProbeSchema.parse({ httpGet: { port: '8080' } }))).toBe(8080);
  });

  it('is undefined for an unknown name and for exec probes', () => {
    expect(probePort(container, ProbeSchema.parse({ tcpSocket: { port: 'web' } }))).toBeUndefined();
    expect(probePort(container, ProbeSchema.parse({ exec: { command: ['true'] } }))).toBeUndefined();
  });
});

describe('pointPathsAt', () => {
  it('points whole-path mentions of the folder at another one, inside shell strings too', () => {
    const argv = ['sh', '-c', 'cd /var/log/nginx && test -f /var/log/nginx/access.log'];
    expect(pointPathsAt(argv, '/var/log/nginx', '/tmp/x')).toEqual({
      argv: ['sh', '-c', 'cd /tmp/x && test -f /tmp/x/access.log'],
      replaced: true,
    });
  });

  it('leaves longer names alone and says when nothing mentions the folder', () => {
    expect(pointPathsAt(['test', '-f', '/var/log/nginx2/a'], '/var/log/nginx/', '/tmp/x')).toEqual({
      argv: ['test', '-f', '/var/log/nginx2/a'],
      replaced: false,
    });
    expect(pointPathsAt(['true'], '/logs', '/tmp/x').replaced).toBe(false);
  });
});

describe('parseFrozenRun', () => {
  it('reads the frozen pids, the exit code, and whether the port still answered', () => {
    expect(parseFrozenRun('frozen= 29 30\nprobe-exit=124\ncontrol=\n')).toEqual({
      frozen: ['29', '30'],
      exitCode: 124,
      stillAnswered: false,
    });
    expect(parseFrozenRun('frozen= 29\nprobe-exit=0\ncontrol=HTTP/1.1 200\n').stillAnswered).toBe(true);
    expect(parseFrozenRun('frozen=\n')).toEqual({ frozen: [], exitCode: undefined, stillAnswered: false });
  });
});
