// A pull that failed for a reason outside the learner's Pod: the node is retrying it, so Check must not call it a mistake.
//
// When a whole room applies at once, the kubelet can refuse pulls before asking any registry ("pull QPS exceeded", its
// own rate limit), a remote registry can answer 429, or the registry can be briefly unreachable. The kubelet retries
// with a back-off; the container then starts by itself. Only an image on the course's allow-list counts (anything else
// is refused at admission, or is the learner's choice), and only while the kubelet's message names such a cause: a
// tag the registry does not have ("not found") is the learner's mistake whatever the load. The kubelet's message is
// the node's own account of the image: "pull QPS exceeded" is decided before any registry is asked, "not found" means
// the node's registry (mirror) does not know the reference.
import type { Pod } from '../model.ts';
import type { FoundContainer } from './pods.ts';

/** How long after the Pod was created a retried pull is still "starting"; the kubelet's back-off tops out at 5 min. */
export const PULL_RETRY_GRACE_MS = 3 * 60_000;

/** The allow-list the sandbox server enforces (SIDECAR_LAB_ALLOWED_IMAGES; the server's default when unset). */
export function allowedImages(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.SIDECAR_LAB_ALLOWED_IMAGES ?? 'busybox,nginx';
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The image's repository in full form, without tag or digest: "busybox" → "docker.io/library/busybox". */
export function fullRepository(image: string): string {
  const repo = image.split('@')[0]!.replace(/:[^/]*$/, '');
  const parts = repo.split('/');
  const hasRegistry = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!);
  if (hasRegistry) return repo;
  return parts.length === 1 ? `docker.io/library/${repo}` : `docker.io/${repo}`;
}

/** Causes that say nothing about the image: the node was told to wait, or could not reach the registry. */
const TRANSIENT =
  /pull QPS exceeded|registry is unavailable|too ?many ?requests|\b429\b|connection refused|connection reset|i\/o timeout|deadline exceeded|TLS handshake timeout|\b50[234]\b|unexpected EOF/i;
/** Causes that are about the image reference itself; they win over a transient-looking word in the same message. */
const THE_IMAGE =
  /not found|manifest unknown|name unknown|does not exist|invalid reference|access denied|unauthori[sz]ed|insufficient_scope/i;

/** Waiting reasons of a failed pull that the kubelet retries by itself. */
const RETRIED_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff']);

/**
 * Why this container's pull is being retried by the node through no fault of the learner, in words ("pull QPS
 * exceeded"), or undefined when its state is not that (running, a bad tag, an image off the allow-list, waited too long).
 */
export function pullRetrying(
  pod: Pod,
  found: FoundContainer,
  options: { now?: number; allowed?: readonly string[] } = {},
): string | undefined {
  const waiting = found.status?.state.waiting;
  if (!waiting?.reason || !RETRIED_REASONS.has(waiting.reason)) return undefined;
  const message = waiting.message ?? '';
  if (!TRANSIENT.test(message) || THE_IMAGE.test(message)) return undefined;
  const allowed = new Set((options.allowed ?? allowedImages()).map(fullRepository));
  if (!allowed.has(fullRepository(found.spec.image ?? ''))) return undefined;
  const created = Date.parse(pod.metadata.creationTimestamp ?? '');
  if (Number.isFinite(created) && (options.now ?? Date.now()) - created > PULL_RETRY_GRACE_MS) return undefined;
  return TRANSIENT.exec(message)![0];
}

/** The `error` verdict of a container still starting: not the learner's mistake, and worth pressing Check again. */
export class StillStartingError extends Error {
  override name = 'StillStartingError';
}

/** The learner-facing words for containers whose pulls the node is retrying. */
export function stillStartingMessage(retrying: ReadonlyArray<{ name: string; image: string; cause: string }>): string {
  const which = retrying.map((r) => `${r.name} (image "${r.image}": ${r.cause})`).join(', ');
  return `Still starting, retrying: the node is retrying the image pull of ${which}. This is the cluster being busy, not a mistake in your Pod; press Check again in a few seconds.`;
}
