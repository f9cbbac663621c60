// Exercise: a lightweight sidecar: requests and limits, limits at most 100m CPU and 64Mi memory (seed section 8).
import { containersPresent, containersRunning, fail, imageName, pass, podExists, withPod } from '../checks/common.ts';
import { containerEvidence, findContainer, longRunningContainers } from '../checks/pods.ts';
import { RESOURCES, type Resource, writtenResources } from '../checks/resources.ts';
import { nginxServes } from '../checks/serving.ts';
import { type CheckDefinitionInput, defineExercise, type Pod } from '../model.ts';
import { compareQuantities, type Quantity, quantityToNumber, tryParseQuantity } from '../quantity.ts';

const POD = 'lightweight-sidecar';
const MAIN = 'main-app';
const MAX = { cpu: '100m', memory: '64Mi' } as const;
type Kind = 'request' | 'limit';

const sidecarNames = (pod: Pod) =>
  longRunningContainers(pod.spec)
    .map((c) => c.spec.name)
    .filter((n) => n !== MAIN);

/**
 * What LimitRanger filled in for a container, from the annotation it leaves on the Pod, e.g. "LimitRanger plugin
 * set: cpu, memory request for container log-agent; cpu limit for init container x". Those values are the
 * namespace's defaults, not the learner's, so they do not count as "the sidecar has requests".
 */
export function defaultedByLimitRanger(pod: Pod, container: string): Set<`${Resource} ${Kind}`> {
  const note = pod.metadata.annotations['kubernetes.io/limit-ranger'] ?? '';
  const set = new Set<`${Resource} ${Kind}`>();
  for (const part of note.replace(/^LimitRanger plugin set:\s*/, '').split(';')) {
    const match = /^\s*(.+?) (request|limit) for (?:init )?container (\S+)\s*$/.exec(part);
    if (!match || match[3] !== container) continue;
    for (const resource of (match[1] ?? '').split(',').map((r) => r.trim())) {
      if (resource === 'cpu' || resource === 'memory') set.add(`${resource} ${match[2] as Kind}`);
    }
  }
  return set;
}

/** A quantity as a learner reads it: the API server may store 0.1Gi as "107374182400m" (milli-bytes). */
function readable(resource: Resource, q: Quantity): string {
  const n = quantityToNumber(q);
  if (resource === 'memory') return /Mi$/.test(q.text) ? q.text : `${q.text} (about ${(n / 2 ** 20).toFixed(1)}Mi)`;
  return /m$/.test(q.text) ? q.text : `${q.text} (${Math.round(n * 1000)}m)`;
}

/** The single sidecar's name, or undefined when there is not exactly one. */
function theSidecar(pod: Pod): string | undefined {
  const sidecars = sidecarNames(pod);
  return sidecars.length === 1 ? sidecars[0] : undefined;
}

/** A resource amount the learner wrote, for `hasAmounts`: what is wrong with it, if anything. */
function amountProblem(resource: Resource, value: string | undefined, defaulted: boolean): string | undefined {
  if (value === undefined) return `no ${resource}`;
  if (defaulted) return `no ${resource} (the namespace's defaults filled one in, but you did not set it)`;
  const parsed = tryParseQuantity(value);
  if (!parsed) return `a ${resource} of "${value}", which is not a quantity`;
  if (quantityToNumber(parsed) <= 0) return `a ${resource} of ${value}, which reserves nothing`;
  return undefined;
}

/**
 * Check `sidecar-has-requests` / `sidecar-has-limits`: the learner wrote non-zero cpu and memory amounts. Judged on
 * what was written (see `writtenResources`): requests the API server copied from limits, or a LimitRange's defaults,
 * are not the learner's.
 */
function hasAmounts(kind: Kind): CheckDefinitionInput {
  const field = kind === 'request' ? 'requests' : 'limits';
  return {
    id: `sidecar-has-${field}`,
    title: `The sidecar sets ${field} for cpu and memory`,
    hint: `Add resources.${field}.cpu and resources.${field}.memory to the sidecar, each more than zero.`,
    requires: ['sidecar-present'],
    run: withPod(POD, (pod) => {
      const name = theSidecar(pod);
      const found = name ? findContainer(pod, name) : undefined;
      if (!name || !found) return fail('The Pod needs exactly one sidecar.');
      const defaulted = defaultedByLimitRanger(pod, name);
      const written = writtenResources(pod, name);
      const values = written[field];
      const evidence = { container: containerEvidence(found), written, limitRanger: [...defaulted] };
      // Without a record of what was applied (kubectl create, or a grader that only creates), requests that all equal
      // their limits look exactly like the copy the API server makes when only limits are written: not counted. One
      // request equal to its limit (memory, say) is common and counts.
      const copied =
        kind === 'request' &&
        written.source === 'spec' &&
        RESOURCES.every((r) => values[r] !== undefined && values[r] === written.limits[r]);
      if (copied) {
        return fail(
          `${name}'s requests equal its limits (cpu ${values.cpu}, memory ${values.memory}), which is what Kubernetes fills in when only limits are written. Write requests yourself: smaller than the limits, or apply with \`kubectl apply\`, which records what you wrote.`,
          evidence,
        );
      }
      const problems = RESOURCES.map((r) => amountProblem(r, values[r], defaulted.has(`${r} ${kind}`))).filter(
        (m): m is string => m !== undefined,
      );
      if (problems.length) {
        const leftOut = kind === 'request' && RESOURCES.some((r) => !values[r] && found.spec.resources.requests[r]);
        const note = leftOut
          ? ' (Kubernetes copies missing requests from the limits, but that is not setting them)'
          : '';
        return fail(`${name} has ${problems.join(' and ')} in resources.${field}${note}.`, evidence);
      }
      return pass(`${name} ${field}: cpu ${values.cpu}, memory ${values.memory}.`, evidence);
    }),
  };
}

export default defineExercise({
  id: 'sidecar-resources',
  title: 'A lightweight sidecar',
  goal: `Create a Pod named \`${POD}\` with a container \`${MAIN}\` (nginx:1.26, serving its page on port 80) and **one** sidecar (any name, image
busybox). Keep the sidecar lightweight: give it resource **requests and limits** for CPU and memory, with limits of
at most **${MAX.cpu} CPU** and **${MAX.memory} memory**. Any unit works (\`0.1\`, \`100m\`, \`64Mi\`, \`50M\`, …);
they are compared the way Kubernetes compares quantities.

Requests must be above zero and written by you: when a container has limits but no requests, Kubernetes copies the
limits into the requests, and that does not count. (Requests exactly equal to both limits look just like such a copy
unless you apply with \`kubectl apply\`, which records what you wrote.)`,
  hints: [
    'Resources go in the container: resources.requests and resources.limits, each with cpu and memory.',
    'A request is what the scheduler reserves; a limit is the most the container may use.',
    '100m is a tenth of a CPU; 64Mi is 64 × 1024 × 1024 bytes, a little more than 64M.',
  ],
  // Mutants of the solution that are still correct by the goal's words (see `npm run exercises:mutate`).
  equivalentMutants: [
    {
      id: 'to-native:log-agent',
      why: "the goal asks for one sidecar of any kind; a native sidecar's resources count the same",
    },
    {
      id: 'to-native:log-agent@accepted/other-units',
      why: "the goal asks for one sidecar of any kind; a native sidecar's resources count the same",
    },
    { id: 'rename:log-agent', why: 'the goal says "one sidecar (any name)"' },
    { id: 'rename:log-agent@accepted/other-units', why: 'the goal says "one sidecar (any name)"' },
    {
      id: 'sleep-command:log-agent',
      why: "the goal asks only for the sidecar's image and resources, not for what it runs",
    },
    {
      id: 'sleep-command:log-agent@accepted/other-units',
      why: "the goal asks only for the sidecar's image and resources, not for what it runs",
    },
    {
      id: 'to-container:metrics@accepted/native-sidecar-half-cpu-units',
      why: "the goal asks for one sidecar of any kind; the reference solution's is ordinary",
    },
    { id: 'rename:metrics@accepted/native-sidecar-half-cpu-units', why: 'the goal says "one sidecar (any name)"' },
    {
      id: 'sleep-command:metrics@accepted/native-sidecar-half-cpu-units',
      why: "the goal asks only for the sidecar's image and resources, not for what it runs",
    },
  ],
  checks: [
    podExists(POD),
    containersPresent(
      POD,
      'main-app-present',
      'main-app runs nginx',
      [{ name: MAIN, image: 'nginx', nativeAllowed: false, role: 'the application' }],
      'Name the nginx container exactly "main-app".',
    ),
    {
      id: 'sidecar-present',
      title: 'The Pod has exactly one sidecar, running busybox',
      hint: 'Add one container (any name, image busybox) next to main-app.',
      requires: ['main-app-present'],
      run: withPod(POD, (pod) => {
        const sidecars = sidecarNames(pod);
        if (sidecars.length === 1) {
          const image = findContainer(pod, sidecars[0] ?? '')?.spec.image;
          if (imageName(image) !== 'busybox') {
            return fail(`The sidecar ${sidecars[0]} runs "${image ?? ''}"; it should run busybox.`, {
              sidecars,
              image,
            });
          }
          return pass(`The sidecar is ${sidecars[0]}.`, { sidecars });
        }
        if (sidecars.length === 0)
          return fail('The Pod has no container besides main-app: add a sidecar.', { sidecars });
        return fail(`The Pod has ${sidecars.length} sidecars (${sidecars.join(', ')}); keep exactly one.`, {
          sidecars,
        });
      }),
    },
    containersRunning(POD, (pod) => [MAIN, ...sidecarNames(pod)], {
      requires: ['main-app-present', 'sidecar-present'],
      title: 'main-app and the sidecar are running',
    }),
    nginxServes(POD, MAIN, {
      id: 'main-app-serves',
      title: 'nginx in main-app serves on port 80',
      hint: 'Leave main-app as nginx runs it: no command of your own, so nginx starts and answers on port 80.',
      requires: ['containers-running'],
      should: 'answer there',
      askFrom: sidecarNames,
    }),
    hasAmounts('request'),
    hasAmounts('limit'),
    {
      id: 'sidecar-limits-small',
      title: `The sidecar's limits are at most ${MAX.cpu} CPU and ${MAX.memory} memory`,
      hint: `Lower the limits: cpu at most ${MAX.cpu} (0.1), memory at most ${MAX.memory}.`,
      requires: ['sidecar-has-limits'],
      run: withPod(POD, (pod) => {
        const name = theSidecar(pod) ?? '';
        const found = findContainer(pod, name);
        if (!found) return fail('The Pod needs exactly one sidecar.');
        const limits = found.spec.resources.limits;
        const problems: string[] = [];
        for (const resource of RESOURCES) {
          const value = limits[resource] ?? '';
          const parsed = tryParseQuantity(value);
          if (!parsed) problems.push(`its ${resource} limit "${value}" is not a quantity`);
          else if (compareQuantities(parsed, MAX[resource]) > 0) {
            problems.push(`its ${resource} limit ${readable(resource, parsed)} is more than ${MAX[resource]}`);
          }
        }
        const evidence = { limits, maximum: MAX };
        if (problems.length) return fail(`${name} is not lightweight: ${problems.join('; ')}.`, evidence);
        return pass(
          `${name}'s limits (cpu ${limits.cpu}, memory ${limits.memory}) are within ${MAX.cpu} and ${MAX.memory}.`,
          evidence,
        );
      }),
    },
  ],
});
