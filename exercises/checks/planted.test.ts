// The planted page: it is removed again whatever the check does with it, and only its token proves who answered.
import { describe, expect, it } from 'vitest';
import { makeCheckContext } from '../context.ts';
import type { ClusterReader, ExecResult } from '../model.ts';
import type { HttpProbe } from './http.ts';
import { servedPage, withPlantedPage } from './planted.ts';

/** A reader whose exec records argv and answers with `result`. */
function recordingReader(result: ExecResult) {
  const calls: string[][] = [];
  const reader = {
    exec: async (_pod: string, _container: string, argv: string[]) => {
      calls.push(argv);
      return result;
    },
  } as unknown as ClusterReader;
  return { calls, ctx: makeCheckContext(reader, { namespace: 'ns', deadline: Date.now() + 10_000 }) };
}

const ok: ExecResult = { stdout: '', stderr: '', exitCode: 0, timedOut: false };
const probe = (status: number | undefined, body: string): HttpProbe => ({
  container: 'c',
  tool: 'wget',
  url: 'http://x/',
  status,
  body,
  error: undefined,
});

describe('withPlantedPage', () => {
  it('writes a token file into the web root and removes it, also when the check throws', async () => {
    const { calls, ctx } = recordingReader(ok);
    await expect(
      withPlantedPage(ctx, 'p', 'nginx', async (page) => {
        expect(page.urlPath).toMatch(/^\/sidecar-lab-check-[0-9a-f]{8}\.txt$/);
        expect(page.token).toMatch(/^[0-9a-f]{24}$/);
        throw new Error('check failed');
      }),
    ).rejects.toThrow('check failed');
    expect(calls).toHaveLength(2);
    expect(calls[0]?.slice(-2)[1]).toMatch(/^\/usr\/share\/nginx\/html\/sidecar-lab-check-/);
    expect(calls[1]?.[0]).toBe('rm');
  });

  it('asks for "/" and says why when nothing can be planted', async () => {
    const { calls, ctx } = recordingReader({
      stdout: '',
      stderr: 'Read-only file system',
      exitCode: 1,
      timedOut: false,
    });
    const page = await withPlantedPage(ctx, 'p', 'nginx', async (page) => page);
    expect(page).toEqual({ urlPath: '/', token: undefined, plantError: 'Read-only file system' });
    expect(calls).toHaveLength(1);
  });
});

describe('servedPage', () => {
  const page = { urlPath: '/t.txt', token: 'abc', plantError: undefined };

  it('is true only for a 200 carrying the token', () => {
    expect(servedPage(probe(200, 'abc\n'), page)).toBe(true);
    expect(servedPage(probe(200, '<h1>Welcome to nginx!</h1>'), page)).toBe(false);
    expect(servedPage(probe(404, 'abc'), page)).toBe(false);
    expect(servedPage(probe(200, 'abc'), { ...page, token: undefined })).toBe(false);
  });
});
