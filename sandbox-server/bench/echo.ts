// Keystroke echo: one byte typed into `cat` in the toolbox's tmux session, timed until the tty's echo comes back —
// through our bridge, and through a direct exec of the same tmux command from this process, in alternating blocks.
import type { Lab } from './lib/lab.ts';
import { type BenchResult, resultOf, summarize, withTarget } from './lib/results.ts';
import {
  detachStale,
  echoRoundTrip,
  LINE_KEYS,
  newLine,
  openDirect,
  startCat,
  type Terminal,
  waitForQuiet,
} from './lib/terminal.ts';

/**
 * Types `count` keys one at a time, each after the previous echo arrived (or was given up on); returns the round trips
 * in ms and how many keys got no echo within 5 s, which the rows count as failures.
 */
export async function typeKeys(terminal: Terminal, count: number): Promise<{ samples: number[]; lost: number }> {
  const samples: number[] = [];
  let lost = 0;
  for (let i = 0; i < count; i++) {
    const key = LINE_KEYS[i % LINE_KEYS.length]!;
    try {
      samples.push(await echoRoundTrip(terminal, key));
    } catch {
      lost++;
    }
    if (key === LINE_KEYS.at(-1)) await newLine(terminal);
  }
  await newLine(terminal);
  return { samples, lost };
}

export async function echo(lab: Lab): Promise<BenchResult[]> {
  const total = lab.quick ? 20 : 1000;
  const blocks = lab.quick ? 1 : 5;
  const { server, learner, sandbox } = await lab.terminalFixture();
  const opens = { bridge: [] as number[], direct: [] as number[] };
  const open = async (kind: 'bridge' | 'direct') => {
    await detachStale(lab.kube, sandbox.namespace);
    const t0 = performance.now();
    const terminal =
      kind === 'bridge' ? await learner.terminal(sandbox.id) : await openDirect(lab.kube, sandbox.namespace);
    opens[kind].push(performance.now() - t0);
    // tmux redraws the screen on attach; typing starts once that has passed.
    await waitForQuiet(terminal, 200, 5000);
    return terminal;
  };

  const setup = await open('bridge');
  await startCat(setup);
  await setup.close();

  const typed = { bridge: { samples: [] as number[], lost: 0 }, direct: { samples: [] as number[], lost: 0 } };
  // Alternating blocks, one connection each (never both at once: two tmux clients would double the redraw work).
  for (let b = 0; b < blocks; b++) {
    for (const kind of b % 2 === 0 ? (['direct', 'bridge'] as const) : (['bridge', 'direct'] as const)) {
      const terminal = await open(kind);
      const keys = Math.round(total / blocks);
      const block = await typeKeys(terminal, keys);
      typed[kind].samples.push(...block.samples);
      typed[kind].lost += block.lost;
      await terminal.close();
    }
    lab.log(
      `echo block ${b + 1}/${blocks}: ${typed.bridge.samples.length} bridge, ${typed.direct.samples.length} direct ` +
        `round trips, ${typed.bridge.lost + typed.direct.lost} keys lost`,
    );
  }

  const row = resultOf(
    {
      name: 'echo',
      metric: 'keystroke → echo, through the bridge',
      unit: 'ms',
      failures: typed.bridge.lost,
      details: { openBridgeMs: opens.bridge, openDirectMs: opens.direct, serverPid: server.pid },
    },
    typed.bridge.samples,
    {
      name: 'direct exec of the same tmux attach from the bench process',
      value: summarize(typed.direct.samples, typed.direct.lost),
    },
  );
  // On a sub-millisecond baseline the ratio says little on its own: the absolute cost of the extra hop goes with it.
  const lost = typed.bridge.lost + typed.direct.lost;
  row.note = [
    `the bridge adds ${(row.p50 - row.baseline!.p50).toFixed(2)} ms at p50, ${(row.p95 - row.baseline!.p95).toFixed(2)} ms at p95`,
    lost ? `${typed.bridge.lost} bridge and ${typed.direct.lost} direct keys got no echo within 5 s (failures)` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return [
    withTarget(row, 'ratio ≤ 1.2', 'ratio', '<=', 1.2),
    resultOf(
      { name: 'echo', metric: 'baseline: keystroke → echo, direct exec', unit: 'ms', failures: typed.direct.lost },
      typed.direct.samples,
    ),
  ];
}
