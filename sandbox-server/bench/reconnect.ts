// Reconnect: a learner's terminal is open when the server is SIGKILLed and restarted at once; timed from the kill to
// the shell answering in a reattached terminal. The client reconnects as the site's does (backoff, then confirm the
// sandbox, then the WebSocket), and also retrying at once, which shows what the backoff adds to the server's restart.
// The baseline, alternating in the same loop: the terminal dropped and reattached while the server keeps running.
import { backoffDelay } from '../../site/client/backoff.ts';
import { alternate, failureNote, type SideSamples } from './lib/alternate.ts';
import type { Lab } from './lib/lab.ts';
import type { BenchLearner } from './lib/learner.ts';
import { type BenchResult, resultOf, summarize, withTarget } from './lib/results.ts';
import type { ServerProcess } from './lib/server.ts';
import { attachedClients, shellAnswers, type Terminal } from './lib/terminal.ts';

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
  const n = lab.samples(10);
  let server: ServerProcess = await lab.startServer(0);
  const startups: number[] = [];
  let clients = Number.NaN;
  let done: Record<'reattach' | 'site' | 'immediate', SideSamples>;
  try {
    const { learner, sandbox } = await lab.newSandbox(server);
    let terminal = await learner.terminal(sandbox.id);
    await shellAnswers(terminal);
    /** One crash: SIGKILL, restart at once on the same port, data folder and secret (the cookie stays valid). */
    const crash = (mode: 'site' | 'immediate') => async () => {
      const t0 = performance.now();
      await server.kill();
      const restarting = lab.startServer(0, server);
      try {
        await terminal.closed;
        terminal = await reattach(learner, sandbox.id, mode);
        const { at } = await shellAnswers(terminal);
        return (at - t0) / 1000;
      } finally {
        server = await restarting;
        startups.push(server.startupMs / 1000);
      }
    };
    // The baseline, in the same loop: the learner's page drops its connection and reattaches to a living server.
    const reattachAlive = async () => {
      const t0 = performance.now();
      await terminal.close();
      terminal = await learner.terminal(sandbox.id);
      const { at } = await shellAnswers(terminal);
      return (at - t0) / 1000;
    };
    done = await alternate({ reattach: reattachAlive, site: crash('site'), immediate: crash('immediate') }, n, {
      onSample: (side, value) => lab.log(`reconnect ${side}: ${(value * 1000).toFixed(0)} ms`),
    });
    // Each dropped connection's tmux client is still attached (a closed exec does not end its process): count them.
    clients = await attachedClients(lab.kube, sandbox.namespace);
    await terminal.close();
  } finally {
    await server.stop();
  }

  const baseline = {
    name: 'close the terminal and reattach to the running server → shell answers, alternating',
    samples: done.reattach.samples,
  };
  const startup = summarize(startups);
  const row = (mode: 'site' | 'immediate', metric: string, extra: string[] = []) =>
    resultOf(
      {
        name: 'reconnect',
        metric,
        unit: 's',
        note: [...extra, failureNote(done[mode], n)].filter(Boolean).join('; '),
        details: { failures: done[mode].failures.slice(0, 5) },
      },
      done[mode].samples,
      baseline,
    );
  return [
    row('site', 'SIGKILL → shell answers, site client backoff', [
      `server start-up (spawn → listening) p50 ${startup.p50.toFixed(2)} s`,
    ]),
    row('immediate', 'SIGKILL → shell answers, retrying every 50 ms'),
    resultOf(
      {
        name: 'reconnect',
        metric: 'baseline: reattach to the running server → shell answers',
        unit: 's',
        note: failureNote(done.reattach, n),
        details: { serverStartupSeconds: startups },
      },
      done.reattach.samples,
    ),
    withTarget(
      resultOf(
        {
          name: 'reconnect',
          metric: `tmux clients attached after ${done.site.samples.length + done.immediate.samples.length + done.reattach.samples.length} reconnects`,
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
