// Mutation testing in the test command: every generated mutant of every exercise's solutions, graded on the real
// cluster, is killed by a check or declared equivalent (and then passes every check). A survivor fails this test.
import { mkdirSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { allKilled, formatReport, runMutation } from '../sandbox-server/src/cli/mutate.ts';
import { loadKubeConfig } from '../sandbox-server/src/cluster/kubeconfig.ts';

/** Generous: about 200 gradings, four at a time, took 8–9.5 min on two cores and a shared cluster; not asserted. */
const WHOLE_RUN_MS = 40 * 60_000;

it(
  'every mutant of every exercise is killed by a check or declared equivalent',
  async () => {
    const started = Date.now();
    const run = await runMutation(loadKubeConfig(), { concurrency: 4, onProgress: (line) => console.log(line) });
    const table = formatReport(run, Date.now() - started);
    console.log(table);
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/mutation.json', `${JSON.stringify(run, null, 2)}\n`);
    expect(allKilled(run), table).toBe(true);
  },
  WHOLE_RUN_MS,
);
