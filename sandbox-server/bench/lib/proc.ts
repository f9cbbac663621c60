// Reads a process's memory and CPU from /proc (Linux), so the server's cost is measured from outside it.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux we run on (getconf CLK_TCK). */
const CLK_TCK = 100;

function statusField(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Resident memory now, in MiB. */
export const rssMiB = (pid: number) => statusField(pid, 'VmRSS');

/** Peak resident memory since start or since the last `resetPeakRss`, in MiB. */
export const peakRssMiB = (pid: number) => statusField(pid, 'VmHWM');

/**
 * Resets the peak RSS counter (writing 5 to clear_refs, Linux ≥ 4.0), so a peak can be measured for one phase.
 * Returns false when the kernel refuses, and the caller falls back to sampling.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU time the process has used, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields after it are counted from the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Pids of processes whose command name is exactly `comm` (e.g. "kube-apiserver"). */
export function pidsByName(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch {
      // The process ended between readdir and read: not one we are looking for any more.
    }
  }
  return pids;
}

/**
 * Samples CPU use (cores, 1.0 = one core busy) and RSS of `pid` every `intervalMs` until stopped; the samples give
 * the p50/p95 of a phase, and `cores` over the whole window gives the average.
 */
export function sampleProcess(pid: number, intervalMs = 1000) {
  const cpu: number[] = [];
  const rss: number[] = [];
  const start = { at: performance.now(), cpu: cpuSeconds(pid) };
  let last = { ...start };
  const timer = setInterval(() => {
    try {
      const now = { at: performance.now(), cpu: cpuSeconds(pid) };
      cpu.push((now.cpu - last.cpu) / ((now.at - last.at) / 1000));
      rss.push(rssMiB(pid));
      last = now;
    } catch {
      clearInterval(timer); // the process is gone; keep what was sampled
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      let average = Number.NaN;
      try {
        average = (cpuSeconds(pid) - start.cpu) / ((performance.now() - start.at) / 1000);
      } catch {
        // The process ended: the per-interval samples are all there is.
      }
      return { cpu, rss, averageCores: average };
    },
  };
}
