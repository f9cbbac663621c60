// nginx's master process as the reload check reads it from /proc, and the configuration it puts in place.
import { describe, expect, it } from 'vitest';
import { checkerConfig, parseMasters } from './reload.ts';

describe('parseMasters', () => {
  it('reads "<pid> <start time>" lines and ignores anything else', () => {
    expect(parseMasters('7 123456\n  16 99\nnot a line\n\n')).toEqual([
      { pid: '7', startTime: '123456' },
      { pid: '16', startTime: '99' },
    ]);
  });

  it('finds no master in empty output (nginx not running, or no /proc to read)', () => {
    expect(parseMasters('')).toEqual([]);
  });
});

describe('checkerConfig', () => {
  it('answers every request on port 80 with the token', () => {
    const conf = checkerConfig('0a1b2c');
    expect(conf).toContain('listen 80;');
    expect(conf).toMatch(/return 200 "sidecar-lab reload check 0a1b2c\\n";/);
  });
});
