// Bulk output: the shell prints N bytes of base64 and then a marker; timed from Enter to the marker, through our bridge
// and through a direct exec of the same tmux attach, alternating. The server's peak RSS is read while it forwards.
import type { Lab } from './lib/lab.ts';
import { peakRssMiB, resetPeakRss, rssMiB } from './lib/proc.ts';
import { type BenchResult, resultOf, withTarget } from './lib/results.ts';
import { detachStale, openDirect, type Terminal, waitForQuiet } from './lib/terminal.ts';

interface BulkRun {
  seconds: number;
  /** Bytes that reached the client: tmux sends screen updates, not the raw stream, so this is less than produced. */
  received: number;
}

/** What tmux prints when its server dies (a colleague's fault test, the toolbox's memory limit). */
const TMUX_DIED = '[server exited unexpectedly]';

/** Arrival time of `marker`; fails at once if tmux dies or the connection closes, rather than at the timeout. */
function untilMarker(terminal: Terminal, marker: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let tail = '';
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      off();
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no "${marker}" within ${timeoutMs} ms`))), timeoutMs);
    const off = terminal.onData((chunk, at) => {
      tail = (tail + chunk.toString('latin1')).slice(-4096);
      if (tail.includes(marker)) finish(() => resolve(at));
      else if (tail.includes(TMUX_DIED)) finish(() => reject(new Error(`tmux died while printing (${terminal.kind})`)));
    });
    // Settling an already settled promise does nothing, so this only matters when the connection drops first.
    void terminal.closed.then(() =>
      finish(() => reject(new Error(`the ${terminal.kind} terminal closed while printing`))),
    );
  });
}

async function printBulk(terminal: Terminal, bytes: number): Promise<BulkRun> {
  terminal.send('\x03'); // out of `cat` (left by the echo benchmark) or a half-typed line
  await waitForQuiet(terminal, 200, 3000);
  const nonce = Math.random().toString(36).slice(2, 10);
  // The marker is computed by the shell, so its typed echo does not match and only the shell's output ends the run.
  const done = untilMarker(terminal, `B42-${nonce}`, 300_000);
  const before = terminal.received;
  const t0 = performance.now();
  terminal.send(`head -c ${bytes} /dev/zero | base64; echo B$((40+2))-${nonce}\r`);
  const t1 = await done;
  await waitForQuiet(terminal, 200, 5000);
  return { seconds: (t1 - t0) / 1000, received: terminal.received - before };
}

export async function bulk(lab: Lab): Promise<BenchResult[]> {
  const bytes = lab.quick ? 1_000_000 : 50_000_000;
  const runs = lab.quick ? 1 : 5;
  const { server, learner, sandbox } = await lab.terminalFixture();
  const bridge: BulkRun[] = [];
  const direct: BulkRun[] = [];
  const growth: number[] = [];
  const peaks: number[] = [];
  let peakMeasured = true;

  // One run over one fresh connection. A connection that drops mid-run (the API server restarted by a colleague's
  // fault test, say) is retried once and reported in the note; a second drop fails the benchmark.
  const failures: string[] = [];
  const once = async (kind: 'bridge' | 'direct') => {
    await detachStale(lab.kube, sandbox.namespace);
    const terminal =
      kind === 'bridge' ? await learner.terminal(sandbox.id) : await openDirect(lab.kube, sandbox.namespace);
    try {
      await waitForQuiet(terminal, 200, 5000);
      if (kind === 'direct') {
        direct.push(await printBulk(terminal, bytes));
        return;
      }
      // The server's memory with this terminal open and idle, then its peak while the output streams through it.
      const idle = rssMiB(server.pid);
      peakMeasured &&= resetPeakRss(server.pid);
      bridge.push(await printBulk(terminal, bytes));
      const peak = peakMeasured ? peakRssMiB(server.pid) : Number.NaN;
      peaks.push(peak);
      growth.push(peak - idle);
    } finally {
      await terminal.close();
    }
  };

  for (let r = 0; r < runs; r++) {
    for (const kind of r % 2 === 0 ? (['direct', 'bridge'] as const) : (['bridge', 'direct'] as const)) {
      try {
        await once(kind);
      } catch (error) {
        failures.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
        await once(kind);
      }
    }
    lab.log(
      `bulk run ${r + 1}/${runs}: bridge ${bridge.at(-1)!.seconds.toFixed(2)} s, direct ${direct.at(-1)!.seconds.toFixed(2)} s`,
    );
  }

  const mbps = (run: BulkRun) => bytes / 1e6 / run.seconds;
  const throughput = resultOf(
    {
      name: 'bulk',
      metric: `${bytes / 1e6} MB printed, through the bridge`,
      unit: 'MB/s',
      ...(failures.length
        ? { note: `${failures.length} run(s) lost their connection and were retried: ${failures[0]}` }
        : {}),
      details: {
        bytesPrinted: bytes,
        bridgeBytesReceived: bridge.map((b) => b.received),
        directBytesReceived: direct.map((d) => d.received),
      },
    },
    bridge.map(mbps),
    { name: 'direct exec of the same tmux attach from the bench process', samples: direct.map(mbps) },
  );
  return [
    withTarget(throughput, 'ratio ≥ 0.8', 'ratio', '>=', 0.8),
    resultOf({ name: 'bulk', metric: 'baseline: direct exec', unit: 'MB/s' }, direct.map(mbps)),
    {
      ...resultOf(
        {
          name: 'bulk',
          metric: 'server peak RSS while printing',
          unit: 'MiB',
          ...(peakMeasured ? {} : { note: 'the kernel refused to reset the peak counter; no peak measured' }),
        },
        peaks,
      ),
    },
    withTarget(
      resultOf(
        {
          name: 'bulk',
          metric: 'server RSS growth over idle, one terminal printing',
          unit: 'MiB',
          // The first run that streams through a fresh server grows V8's young generation once; later runs show what a
          // printing terminal itself adds. Both are in the row: p50 for the terminal, max for the one-time growth.
          note: `largest growth ${Math.max(...growth).toFixed(1)} MiB (the first run after start-up grows the JS heap once)`,
        },
        growth,
      ),
      '≤ 1 MiB per terminal (DESIGN.md)',
      'p50',
      '<=',
      1,
    ),
  ];
}
