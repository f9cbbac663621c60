// Smoke test of `npm run bench -- --quick`: every benchmark runs once against the real cluster and writes its results,
// so the benchmarks cannot rot. Timings are never asserted here: they are noisy, and `npm run bench` is for reading.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BENCHMARKS = ['ready', 'echo', 'bulk', 'check', 'concurrency', 'burst', 'site', 'reconnect'];
const out = mkdtempSync(join(tmpdir(), 'slab-bench-smoke-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Report {
  mode: string;
  machine: { cores: number };
  kubernetes: { version: string };
  benchmarks: Array<{ name: string; status: string; error?: string }>;
  results: Array<{ name: string; metric: string; p50: unknown; p95: unknown; n: unknown }>;
}

describe('npm run bench -- --quick', () => {
  it('runs every benchmark once and writes numeric results as JSON', async () => {
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['sandbox-server/bench/run.ts', '--quick', '--out', out],
        { timeout: 600_000, maxBuffer: 16 << 20 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
    expect(run.code, `${run.stdout}\n${run.stderr.slice(-4000)}`).toBe(0);

    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as Report;
    expect(report.mode).toBe('quick');
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.kubernetes.version).toMatch(/^v1\.\d+/);
    expect(report.benchmarks.map((b) => b.name)).toEqual(BENCHMARKS);
    expect(report.benchmarks.filter((b) => b.status !== 'ok')).toEqual([]);
    for (const name of BENCHMARKS) {
      const rows = report.results.filter((r) => r.name === name);
      expect(rows.length, `results of ${name}`).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.n, `${name}: ${row.metric}`).toBeGreaterThan(0);
        expect(Number.isFinite(row.p50), `${name}: ${row.metric} p50`).toBe(true);
        expect(Number.isFinite(row.p95), `${name}: ${row.metric} p95`).toBe(true);
      }
    }
    // The table a person reads is printed too.
    expect(run.stdout).toContain('benchmark');
    expect(run.stdout).toContain(join(out, files[0]!));
  }, 600_000);
});
