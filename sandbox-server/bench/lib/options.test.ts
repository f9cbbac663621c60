// The bench's command line: usage on --help, every unknown flag or benchmark named in its error.
import { describe, expect, it } from 'vitest';
import { BENCHMARK_NAMES, parseOptions, USAGE, UsageError } from './options.ts';

describe('parseOptions', () => {
  it('reads every option, inline or as the next argument', () => {
    expect(
      parseOptions([
        '--quick',
        '--only=ready,verdict',
        '--samples',
        '3',
        '--levels=2,4',
        '--seconds',
        '5',
        '--ramp-step=2',
        '--ramp-max',
        '6',
        '--exercises',
        'first-sidecar',
        '--out',
        '/tmp/x',
      ]),
    ).toEqual({
      help: false,
      quick: true,
      only: ['ready', 'verdict'],
      samples: 3,
      levels: [2, 4],
      seconds: 5,
      rampStep: 2,
      rampMax: 6,
      exercises: ['first-sidecar'],
      out: '/tmp/x',
    });
  });

  it('asks for help with --help or -h, and the usage lists every benchmark and flag', () => {
    expect(parseOptions(['--help']).help).toBe(true);
    expect(parseOptions(['-h']).help).toBe(true);
    for (const name of BENCHMARK_NAMES) expect(USAGE).toContain(name);
    for (const flag of [
      '--only',
      '--quick',
      '--samples',
      '--levels',
      '--seconds',
      '--ramp-step',
      '--ramp-max',
      '--url',
      '--out',
    ])
      expect(USAGE).toContain(flag);
  });

  it('names an unknown benchmark, and every one when there are several', () => {
    expect(() => parseOptions(['--only', 'ready,nope,zap'])).toThrow(
      /no benchmark named "nope", "zap" \(there are: ready/,
    );
  });

  it('takes --url for the concurrency benchmark only, as a base address', () => {
    expect(parseOptions(['--only', 'concurrency', '--url', 'http://10.240.0.1:30080/']).url).toBe(
      'http://10.240.0.1:30080',
    );
    expect(() => parseOptions(['--url', 'http://10.240.0.1:30080'])).toThrow(/add --only concurrency/);
    expect(() => parseOptions(['--only', 'concurrency,echo', '--url=http://a:1'])).toThrow(/--only concurrency/);
    expect(() => parseOptions(['--only', 'concurrency', '--url', '10.240.0.1:30080'])).toThrow(/--url wants/);
    expect(() => parseOptions(['--only', 'concurrency', '--url', 'http://a:1/api'])).toThrow(/--url wants/);
  });

  it('names an unknown flag', () => {
    expect(() => parseOptions(['--quik'])).toThrow(new UsageError('unknown argument "--quik" (see --help)'));
    expect(() => parseOptions(['ready'])).toThrow(/unknown argument "ready"/);
  });

  it('refuses missing and malformed values, naming the flag', () => {
    expect(() => parseOptions(['--samples'])).toThrow('--samples needs a value');
    expect(() => parseOptions(['--samples', '--quick'])).toThrow('--samples needs a value');
    expect(() => parseOptions(['--samples', '0'])).toThrow(/--samples wants a whole number of at least 1, not "0"/);
    expect(() => parseOptions(['--ramp-max=2.5'])).toThrow(/--ramp-max wants/);
    expect(() => parseOptions(['--levels', '10,x'])).toThrow(/--levels wants .* not "x"/);
    expect(() => parseOptions(['--quick=yes'])).toThrow(/--quick takes no value/);
  });
});
