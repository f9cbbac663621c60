// "nginx reloads when its ConfigMap changes": the checker changes the ConfigMap at check time to a configuration only
// it knows (a random token), waits for nginx to answer with that token, and proves nginx was reloaded, not started
// again: the same master process (pid and start time) and an unchanged restart count. The learner's value is put back
// before the check returns.
//
// The wait is long on purpose: the kubelet rewrites a mounted ConfigMap at its next sync of the Pod, which on this
// cluster came 3 s, 68 s and 85 s after a change (syncFrequency 1 min plus up to half of it as jitter).
import { randomBytes } from 'node:crypto';
import { ClusterUnavailableError } from '../errors.ts';
import type { CheckContext, CheckDefinitionInput, Pod } from '../model.ts';
import { fail, pass, withPod } from './common.ts';
import { describeProbe, type HttpProbe, httpGet, probeEvidence } from './http.ts';
import { findContainer } from './pods.ts';
import { seconds } from './timing.ts';

/** nginx's master process as /proc shows it: a reload keeps both, a new start changes them. */
export interface NginxMaster {
  pid: string;
  /** Clock ticks after boot (field 22 of /proc/<pid>/stat). */
  startTime: string;
}

// Prints "<pid> <start time>" for every process whose command line starts with "nginx: master". The fields of
// /proc/<pid>/stat after the command name in parentheses start at field 3, so field 22 is the 20th of them.
const MASTER_SCRIPT = `for p in /proc/[0-9]*; do
  case "$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null)" in
    "nginx: master"*) s=$(cat "$p/stat" 2>/dev/null) || continue; s=\${s##*) }; set -- $s; echo "\${p#/proc/} \${20}";;
  esac
done`;

/** Parses MASTER_SCRIPT's output. */
export function parseMasters(text: string): NginxMaster[] {
  return text
    .split('\n')
    .map((line) => /^(\d+) (\d+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: m[1] as string, startTime: m[2] as string }));
}

/** The nginx master processes `container` can see. */
export async function nginxMasters(ctx: CheckContext, pod: string, container: string): Promise<NginxMaster[]> {
  const result = await ctx.exec(pod, container, ['sh', '-c', MASTER_SCRIPT], { timeoutMs: 5000 });
  return parseMasters(result.stdout);
}

/** The configuration the checker puts in place: it answers every request with the token. */
export const checkerConfig = (token: string) =>
  `# Put here by the Sidecar Lab checker; your own configuration comes back when the check ends.
server {
  listen 80;
  location / {
    default_type text/plain;
    return 200 "sidecar-lab reload check ${token}\\n";
  }
}
`;

/** What the reload check needs to know about the exercise. */
export interface ReloadTarget {
  pod: string;
  main: string;
  reloader: string;
  configMap: string;
  key: string;
  /** Where main-app mounts the ConfigMap. */
  mountPath: string;
}

const restarts = (pod: Pod | undefined, name: string) =>
  pod ? (findContainer(pod, name)?.status?.restartCount ?? 0) : 0;

type Wait =
  | { kind: 'served'; probe: HttpProbe }
  | { kind: 'restarted'; count: number }
  | { kind: 'not-reloaded'; fileSeenMs: number }
  | { kind: 'gone' };

/** How long nginx gets to reload once the new file is in main-app: generous for a reloader that polls every 10 s. */
const RELOAD_GRACE_MS = 20_000;
/** The longest the kubelet took to update a mounted ConfigMap here was 85 s (at most 90 s by its settings). */
const WAIT_MS = 112_000;

/**
 * Check: after the checker changes the ConfigMap, nginx in `main` serves the new configuration, with the same master
 * process and restart count as before.
 */
export function reloadsOnChange(target: ReloadTarget, requires: string[]): CheckDefinitionInput {
  const { pod, main, reloader, configMap, key, mountPath } = target;
  const file = `${mountPath}/${key}`;
  return {
    id: 'reloads-on-change',
    title: `When ${configMap} changes, nginx in ${main} serves the new configuration without a restart (waits up to 2 minutes for the kubelet)`,
    hint: `The reloader must notice the new file (the \`..data\` link in the mounted folder changes) and send nginx's master process the HUP signal; \`shareProcessNamespace: true\` lets it see that process.`,
    requires,
    timeoutMs: 120_000,
    run: withPod(pod, async (found, ctx) => {
      const from = [main, reloader];
      const evidence: Record<string, unknown> = {};
      const before = await httpGet(ctx, pod, from, { host: '127.0.0.1', port: 80, path: '/' });
      evidence.before = probeEvidence(before);
      if (before.status === undefined) {
        return fail(
          `Before changing anything, the checker asked http://localhost:80/ and it ${describeProbe(before)}: nginx in ${main} should serve your configuration on port 80.`,
          evidence,
        );
      }
      const masters = await nginxMasters(ctx, pod, main);
      evidence.mastersBefore = masters;
      const master = masters[0];
      if (!master) return fail(`The checker found no nginx master process in ${main}; ${main} should run nginx.`);
      const map = await ctx.getConfigMap(configMap);
      if (!map) return fail(`The ConfigMap "${configMap}" is gone; create it again.`, evidence);
      const restartsBefore = restarts(found, main);
      const token = randomBytes(8).toString('hex');
      const changedAt = Date.now();
      await ctx.patchConfigMapData(configMap, { [key]: checkerConfig(token) });
      try {
        let fileSeenAt: number | undefined;
        const waited = await ctx.waitFor<Wait>(
          async () => {
            const now = await ctx.getPod(pod);
            if (!now) return { kind: 'gone' };
            const count = restarts(now, main);
            if (count > restartsBefore) return { kind: 'restarted', count };
            const probe = await httpGet(ctx, pod, from, { host: '127.0.0.1', port: 80, path: '/' });
            evidence.last = probeEvidence(probe);
            if (probe.status === 200 && probe.body.includes(token)) return { kind: 'served', probe };
            if (fileSeenAt === undefined) {
              const cat = await ctx.exec(pod, main, ['cat', file], { timeoutMs: 5000 });
              if (cat.stdout.includes(token)) fileSeenAt = Date.now();
            } else if (Date.now() - fileSeenAt > RELOAD_GRACE_MS) {
              return { kind: 'not-reloaded', fileSeenMs: fileSeenAt - changedAt };
            }
            return false;
          },
          { timeoutMs: WAIT_MS, intervalMs: 2000 },
        );
        evidence.waitedMs = Date.now() - changedAt;
        if (!waited.ok && fileSeenAt !== undefined) {
          // The kubelet was so late that nginx had less than its grace period: no verdict on the learner.
          throw new ClusterUnavailableError(
            `the kubelet updated ${file} only ${seconds(fileSeenAt - changedAt)} after the change, too late to see nginx reload within this check; press Check again`,
          );
        }
        if (!waited.ok) {
          return fail(
            `The checker changed ${key} in ${configMap} and waited ${seconds(Date.now() - changedAt)}, but ${file} in ${main} never showed the new content: mount the ConfigMap as a whole folder (a subPath mount is never updated).`,
            evidence,
          );
        }
        const outcome = waited.value;
        if (outcome.kind === 'gone') return fail(`The Pod "${pod}" went away during the check.`, evidence);
        if (outcome.kind === 'restarted') {
          return fail(
            `${main} was restarted (restart count ${restartsBefore} → ${outcome.count}) after the change: a restart is not a reload. Send nginx's master process the HUP signal instead of stopping it.`,
            evidence,
          );
        }
        if (outcome.kind === 'not-reloaded') {
          return fail(
            `The new ${key} reached ${file} in ${main} ${seconds(outcome.fileSeenMs)} after the change, but ${seconds(RELOAD_GRACE_MS)} later nginx still served the old configuration: nothing made it reload.`,
            evidence,
          );
        }
        const after = await nginxMasters(ctx, pod, main);
        const now = await ctx.getPod(pod);
        evidence.mastersAfter = after;
        const count = restarts(now, main);
        if (count > restartsBefore) {
          return fail(
            `nginx serves the new configuration, but ${main} was restarted (restart count ${restartsBefore} → ${count}): a restart is not a reload.`,
            evidence,
          );
        }
        if (!after.some((m) => m.pid === master.pid && m.startTime === master.startTime)) {
          return fail(
            `nginx serves the new configuration, but its master process is a new one (pid ${master.pid} before, ${after.map((m) => m.pid).join(', ') || 'none'} after): nginx was started again, not reloaded.`,
            evidence,
          );
        }
        return pass(
          `The checker changed ${configMap}; ${seconds(Date.now() - changedAt)} later nginx served the new configuration from the same master process (pid ${master.pid}), and ${main} was not restarted.`,
          evidence,
        );
      } finally {
        // Put the learner's configuration back (or remove the key if they had none).
        await ctx.patchConfigMapData(configMap, { [key]: map.data[key] ?? null });
      }
    }),
  };
}
