// Reconnect: a learner's terminal is open when the server is SIGKILLed and restarted at once; timed from the kill to
// the shell answering in a reattached terminal. The client reconnects as the site's does (backoff, then confirm the
// sandbox, then the WebSocket), and also retrying at once, which shows what the backoff adds to the server's restart.
import { backoffDelay } from '../../site/client/backoff.ts';
import type { Lab } from './lib/lab.ts';
import type { BenchLearner } from './lib/learner.ts';
import { type BenchResult, resultOf, summarize, withTarget } from './lib/results.ts';
import type { ServerProcess } from './lib/server.ts';
import { attachedClients, shellAnswers, type Terminal } from './lib/terminal.ts';
import { warmClaims } from './ready.ts';

const GIVE_UP_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reopens the terminal: in `site` mode like site/client/terminal.ts (wait backoffDelay(attempt), GET the sandbox, and
 * only when it is ready open the WebSocket); in `immediate` mode every 50 ms without asking first.
 */
async function reattach(learner: BenchLearner, sandboxId: string, mode: 'site' | 'immediate'): Promise<Terminal> {
  const deadline = performance.now() + GIVE_UP_MS;
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    await sleep(mode === 'site' ? backoffDelay(attempt) : 50);
    if (mode === 'site') {
      const state = await learner.request('GET', `/api/sandboxes/${sandboxId}`).then(
        (r) =>
          r.status === 404
            ? 'gone'
            : r.status === 200 && (r.json as { status: string }).status === 'ready'
              ? 'ready'
              : 'unknown',
        () => 'unknown', // the server is not listening yet
      );
      if (state === 'gone') throw new Error('the server lost the sandbox across the restart');
      if (state === 'unknown') continue;
    }
    try {
      return await learner.terminal(sandboxId);
    } catch {
      // Refused or not listening yet: try again, as the client would.
    }
  }
  throw new Error(`the terminal did not come back within ${GIVE_UP_MS / 1000} s`);
}

export async function reconnect(lab: Lab): Promise<BenchResult[]> {
  const n = lab.quick ? 1 : 10;
  // Compared with warm sandbox-ready from this run; measured here when the ready benchmark did not run.
  const warm = lab.warmReady ?? {
    samples: (await warmClaims(lab, n)).samples.map((s) => s.totalMs / 1000),
    value: { p50: Number.NaN, p95: Number.NaN },
  };
  if (!lab.warmReady) warm.value = summarize(warm.samples);

  let server: ServerProcess = await lab.startServer(0);
  const samples = { site: [] as number[], immediate: [] as number[] };
  const startups: number[] = [];
  let clients = Number.NaN;
  try {
    const { learner, sandbox } = await lab.newSandbox(server);
    let terminal = await learner.terminal(sandbox.id);
    await shellAnswers(terminal);
    for (let i = 0; i < 2 * n; i++) {
      const mode = i % 2 === 0 ? 'site' : 'immediate';
      const t0 = performance.now();
      await server.kill();
      // Restarted at once, on the same port, data folder and secret: the learner's cookie stays valid.
      const restarting = lab.startServer(0, server);
      await terminal.closed;
      terminal = await reattach(learner, sandbox.id, mode);
      const { at: answered } = await shellAnswers(terminal);
      samples[mode].push((answered - t0) / 1000);
      server = await restarting;
      startups.push(server.startupMs / 1000);
      lab.log(`reconnect ${i + 1}/${2 * n} (${mode}): ${(answered - t0).toFixed(0)} ms`);
    }
    // Each dropped connection's tmux client is still attached (a closed exec does not end its process): count them.
    clients = await attachedClients(lab.kube, sandbox.namespace);
    await terminal.close();
  } finally {
    await server.stop();
  }

  const baseline = { name: 'warm claim → shell answers (ready benchmark, this run)', value: warm.value };
  const startup = summarize(startups);
  return [
    resultOf(
      {
        name: 'reconnect',
        metric: 'SIGKILL → shell answers, site client backoff',
        unit: 's',
        details: { serverStartupSeconds: startups },
        note: `server start-up (spawn → listening) p50 ${startup.p50.toFixed(2)} s`,
      },
      samples.site,
      baseline,
    ),
    resultOf(
      { name: 'reconnect', metric: 'SIGKILL → shell answers, retrying every 50 ms', unit: 's' },
      samples.immediate,
      baseline,
    ),
    withTarget(
      resultOf(
        {
          name: 'reconnect',
          metric: `tmux clients attached after ${2 * n} reconnects`,
          unit: 'clients',
          note: 'one is the live terminal; each other is the client of a dropped connection, which tmux keeps redrawing and buffering for',
        },
        [clients],
      ),
      '1 (the live terminal)',
      'p50',
      '<=',
      1,
    ),
  ];
}
