// The exec channel protocol: frames, resize and close-stdin messages, the URL, and status → exit code.
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from './exec.ts';
import {
  CHANNEL,
  closeStdinFrame,
  decodeFrame,
  encodeFrame,
  execPath,
  parseStatus,
  resizeFrame,
} from './exec-socket.ts';

describe('exec frames', () => {
  it('prefix the payload with its channel, and split back', () => {
    const frame = encodeFrame(CHANNEL.stdin, 'ls\n');
    expect([...frame]).toEqual([0, 0x6c, 0x73, 0x0a]);
    expect(decodeFrame(Buffer.from([2, 0x65, 0x72]))).toEqual({ channel: 2, payload: Buffer.from('er') });
    expect(decodeFrame([Buffer.from([1]), Buffer.from('hi')])).toEqual({ channel: 1, payload: Buffer.from('hi') });
    expect(decodeFrame(Buffer.alloc(0))).toBeUndefined();
  });

  it('send the terminal size as JSON on the resize channel, and close stdin with 255 0', () => {
    const resize = resizeFrame(120, 40);
    expect(resize[0]).toBe(4);
    expect(JSON.parse(resize.subarray(1).toString())).toEqual({ Width: 120, Height: 40 });
    expect([...closeStdinFrame()]).toEqual([255, 0]);
  });

  it('read the status channel as a V1Status, and text that is not JSON as a failure', () => {
    expect(parseStatus(Buffer.from('{"status":"Success","metadata":{}}'))).toEqual({
      status: 'Success',
      metadata: {},
    });
    expect(parseStatus(Buffer.from('boom'))).toEqual({ status: 'Failure', message: 'boom' });
  });
});

describe('execPath', () => {
  it('repeats command per argument and names the streams', () => {
    const path = execPath('ns', 'p', 'c', ['sh', '-c', 'echo a&b'], {
      stdin: false,
      stdout: true,
      stderr: true,
      tty: false,
    });
    expect(path).toBe(
      '/api/v1/namespaces/ns/pods/p/exec?command=sh&command=-c&command=echo+a%26b&container=c&stdin=false&stdout=true&stderr=true&tty=false',
    );
  });
});

describe('exitCodeOf', () => {
  it('is 0 on Success, the ExitCode cause otherwise, and 1 without one', () => {
    expect(exitCodeOf({ status: 'Success' })).toBe(0);
    expect(
      exitCodeOf({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '3' }] },
      }),
    ).toBe(3);
    expect(exitCodeOf({ status: 'Failure', message: 'container not found' })).toBe(1);
  });
});
