// Checks for the logging-sidecar pattern: nginx writes its access log to a shared volume that a collector tails.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { CheckContext, CheckDefinitionInput, Container, Pod } from '../model.ts';
import { fail, LOG_BOUNDS, pass, withPod } from './common.ts';
import { describeProbe, httpGet, probeEvidence } from './http.ts';
import { type PlantedPage, servedPage, withPlantedPage } from './planted.ts';
import { containerEvidence, findContainer, learnerMounts, mountsCovering, podEvidence } from './pods.ts';

/** Where the stock nginx configuration writes its access log. */
export const ACCESS_LOG = '/var/log/nginx/access.log';

/** Volume kinds a container cannot write to. */
const READ_ONLY_SOURCES = ['configMap', 'secret', 'downwardAPI', 'projected'];

/** The mount of `main` that holds nginx's access log (the deepest one), if any. */
function accessLogMount(main: Container) {
  return mountsCovering(main, ACCESS_LOG).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

/** Where the access log appears inside `collector`, following both containers' mounts (and subPaths). */
export function accessLogInCollector(main: Container, collector: Container): string | undefined {
  const mount = accessLogMount(main);
  if (!mount) return undefined;
  const inVolume = posix.join(mount.subPath ?? '', posix.relative(mount.mountPath, ACCESS_LOG));
  for (const m of collector.volumeMounts.filter((v) => v.name === mount.name)) {
    const sub = m.subPath ?? '';
    if (sub === '' || inVolume === sub || inVolume.startsWith(`${sub}/`)) {
      return posix.join(m.mountPath, posix.relative(sub || '.', inVolume));
    }
  }
  return undefined;
}

const commandText = (c: Container) => [...(c.command ?? []), ...(c.args ?? [])].join(' ');

/** Check `main-app-logs-on-volume`: nginx's log folder is a writable volume, so another container can read it. */
export function mainAppLogsOnVolume(pod: string, main: string, requires: string[]): CheckDefinitionInput {
  return {
    id: 'main-app-logs-on-volume',
    title: `${main} writes its access log to a volume`,
    hint: `Mount a volume (an emptyDir) in ${main} at /var/log/nginx: nginx then writes access.log into it instead of to its own stdout.`,
    requires,
    run: withPod(pod, (p) => {
      const found = findContainer(p, main);
      if (!found) return fail(`There is no container "${main}".`);
      const mount = accessLogMount(found.spec);
      const evidence = { container: containerEvidence(found), volumes: p.spec.volumes };
      if (!mount) {
        const mounted = learnerMounts(found.spec).map((m) => m.mountPath);
        return fail(
          `${main} does not mount a volume at /var/log/nginx${mounted.length ? ` (it mounts ${mounted.join(', ')})` : ''}, so nginx sends its access log to its own stdout and no other container can read it.`,
          evidence,
        );
      }
      const volume = p.spec.volumes.find((v) => v.name === mount.name);
      const readOnly = volume && READ_ONLY_SOURCES.find((kind) => kind in volume);
      if (mount.readOnly || readOnly) {
        return fail(
          `${main} mounts "${mount.name}" at ${mount.mountPath} read-only${readOnly ? ` (a ${readOnly} volume)` : ''}; nginx must be able to write its log there. Use an emptyDir.`,
          evidence,
        );
      }
      return pass(`${main} keeps /var/log/nginx on the volume "${mount.name}".`, evidence);
    }),
  };
}

/** Check `collector-mounts-log-volume`: the collector mounts the very volume nginx writes to. */
export function collectorMountsLogVolume(
  pod: string,
  main: string,
  collector: string,
  requires: string[],
): CheckDefinitionInput {
  return {
    id: 'collector-mounts-log-volume',
    title: `${collector} mounts the volume that nginx writes to`,
    hint: `Both containers need a volumeMount with the same volume name; the mount path in ${collector} is up to you.`,
    requires,
    run: withPod(pod, (p) => {
      const m = findContainer(p, main);
      const c = findContainer(p, collector);
      if (!m || !c) return fail(`The Pod needs both "${main}" and "${collector}".`);
      const mount = accessLogMount(m.spec);
      const evidence = { [main]: containerEvidence(m), [collector]: containerEvidence(c) };
      if (!mount) return fail(`${main} does not keep its logs on a volume.`, evidence);
      if (!c.spec.volumeMounts.some((v) => v.name === mount.name)) {
        const others = learnerMounts(c.spec).map((v) => `"${v.name}"`);
        return fail(
          `${collector} does not mount the volume that nginx writes to ("${mount.name}", at ${mount.mountPath} in ${main})${others.length ? `; it mounts ${others.join(', ')} instead` : ''}.`,
          evidence,
        );
      }
      const where = accessLogInCollector(m.spec, c.spec);
      if (!where) {
        return fail(
          `${collector} mounts "${mount.name}" with a subPath that does not contain nginx's access log.`,
          evidence,
        );
      }
      return pass(`${collector} mounts "${mount.name}" and sees nginx's access log at ${where}.`, evidence);
    }),
  };
}

/** What the learner should look at when the request did not show up in the collector's output. */
function diagnose(p: Pod, main: string, collector: string): string {
  const m = findContainer(p, main);
  const c = findContainer(p, collector);
  if (!m || !c) return '';
  const where = accessLogInCollector(m.spec, c.spec);
  const command = commandText(c.spec);
  if (where && !command.includes(where)) {
    return ` nginx writes the request to access.log, which ${collector} sees at ${where}, but its command (${command || 'the image default'}) does not read that file.`;
  }
  if (c.status && c.status.restartCount > 0) {
    return ` ${collector} has restarted ${c.status.restartCount} time(s); \`tail -f\` gives up when the file does not exist yet, \`tail -F\` keeps trying.`;
  }
  return '';
}

/** How many requests must reach the collector, one after the other: one could be met by a file read once. */
const REQUESTS = 2;

/**
 * Check `request-reaches-collector`: the checker sends nginx a request carrying a unique marker (from inside the Pod,
 * by exec) and expects the collector's own log to show it within 5 s; then a second one, sent only after the first
 * was seen, so a collector that read the file once (instead of following it) does not pass. This is the behaviour the
 * pattern is for.
 */
export function requestReachesCollector(
  pod: string,
  main: string,
  collector: string,
  requires: string[],
): CheckDefinitionInput {
  return {
    id: 'request-reaches-collector',
    title: `Requests to nginx show up in ${collector}'s log as they come`,
    hint: `${collector} should follow the access log and print it to its stdout, e.g. \`tail -F /path/to/access.log\`; \`kubectl logs <pod> -c ${collector}\` shows what it prints.`,
    requires,
    // Two execs (plant, remove), and per request one exec and up to 5 s for the log line.
    timeoutMs: 30_000,
    // One page planted in main-app's web root serves both requests: an answer carrying it proves nginx served it.
    run: withPod(pod, (p, ctx) =>
      withPlantedPage(ctx, pod, main, (page) => followRequests(p, ctx, page, { pod, main, collector })),
    ),
  };
}

/** The Pod and container names `request-reaches-collector` works with. */
interface CollectorNames {
  pod: string;
  main: string;
  collector: string;
}

/** The rounds of `request-reaches-collector`: each asks nginx for the planted page with its own marker. */
async function followRequests(p: Pod, ctx: CheckContext, page: PlantedPage, names: CollectorNames) {
  const { pod, main, collector } = names;
  const seen: string[] = [];
  for (let round = 1; round <= REQUESTS; round++) {
    // A query string marks the request: it lands in access.log only (a 404 would also land in error.log).
    const marker = `sidecar-lab-check=${randomBytes(6).toString('hex')}`;
    const path = `${page.urlPath}?${marker}`;
    const probe = await httpGet(ctx, pod, [collector, main], { host: '127.0.0.1', port: 80, path });
    if (probe.status === undefined || (page.token !== undefined && !servedPage(probe, page))) {
      const why =
        probe.status === undefined
          ? `the request ${describeProbe(probe)}`
          : `something else answered (HTTP ${probe.status}, not the page the checker put into nginx's web root)`;
      return fail(`nginx in ${main} did not answer on port 80: ${why}.`, { probe: probeEvidence(probe), seen });
    }
    let lastLog = '';
    const shown = await ctx.waitFor(
      async () => {
        lastLog = (await ctx.logs(pod, collector, LOG_BOUNDS)) ?? '';
        return lastLog.includes(marker);
      },
      { timeoutMs: 5000, intervalMs: 250 },
    );
    if (shown.ok) {
      seen.push(marker);
      continue;
    }
    const lines = lastLog.split('\n').filter(Boolean);
    const fresh = (await ctx.getPod(pod)) ?? p;
    const tail = lines.length ? ` Its last lines: ${lines.slice(-3).join(' | ')}` : ` Its log is empty.`;
    const after = round > 1 ? ` The first request did show up: ${collector} must keep following the log.` : '';
    return fail(
      `nginx answered the request "GET ${path}", but ${collector}'s log did not show it within 5 s.${after}${diagnose(fresh, main, collector)}${tail}`,
      { probe: probeEvidence(probe), marker, lastLines: lines.slice(-10), seen, pod: podEvidence(fresh) },
    );
  }
  return pass(`${REQUESTS} requests, one after the other, each showed up in ${collector}'s log.`, { seen });
}
