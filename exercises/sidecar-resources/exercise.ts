// Exercise 8: a lightweight sidecar: requests and limits, limits at most 100m CPU and 64Mi memory (seed section 8).
import { containersPresent, containersRunning, fail, pass, podExists, withPod } from '../checks/common.ts';
import { containerEvidence, findContainer, longRunningContainers } from '../checks/pods.ts';
import { type CheckDefinitionInput, defineExercise, type Pod } from '../model.ts';
import { compareQuantities, type Quantity, quantityToNumber, tryParseQuantity } from '../quantity.ts';

const POD = 'lightweight-sidecar';
const MAIN = 'main-app';
const MAX = { cpu: '100m', memory: '64Mi' } as const;
const RESOURCES = ['cpu', 'memory'] as const;
type Resource = (typeof RESOURCES)[number];
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

function hasAmounts(kind: Kind): CheckDefinitionInput {
  const field = kind === 'request' ? 'requests' : 'limits';
  return {
    id: `sidecar-has-${field}`,
    title: `The sidecar sets ${field} for cpu and memory`,
    hint: `Add resources.${field}.cpu and resources.${field}.memory to the sidecar.`,
    requires: ['sidecar-present'],
    run: withPod(POD, (pod) => {
      const name = theSidecar(pod);
      const found = name ? findContainer(pod, name) : undefined;
      if (!name || !found) return fail('The Pod needs exactly one sidecar.');
      const defaulted = defaultedByLimitRanger(pod, name);
      const values = found.spec.resources[field];
      const missing = RESOURCES.filter((r) => values[r] === undefined || defaulted.has(`${r} ${kind}`));
      const evidence = { container: containerEvidence(found), limitRanger: [...defaulted] };
      if (missing.length) {
        const byDefault = missing.filter((r) => defaulted.has(`${r} ${kind}`));
        const note = byDefault.length
          ? ` (the namespace's defaults filled in ${byDefault.join(' and ')}, but you did not set them)`
          : '';
        return fail(`${name} has no ${field} for ${missing.join(' and ')}${note}.`, evidence);
      }
      return pass(`${name} ${field}: cpu ${values.cpu}, memory ${values.memory}.`, evidence);
    }),
  };
}

export default defineExercise({
  id: 'sidecar-resources',
  title: 'A lightweight sidecar',
  goal: `Create a Pod named \`${POD}\` with a container \`${MAIN}\` (nginx:1.26) and **one** sidecar (any name, image
busybox). Keep the sidecar lightweight: give it resource **requests and limits** for CPU and memory, with limits of
at most **${MAX.cpu} CPU** and **${MAX.memory} memory**. Any unit works (\`0.1\`, \`100m\`, \`64Mi\`, \`50M\`, …);
they are compared the way Kubernetes compares quantities.`,
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
      title: 'The Pod has exactly one sidecar',
      hint: 'Add one container (any name) next to main-app.',
      requires: ['main-app-present'],
      run: withPod(POD, (pod) => {
        const sidecars = sidecarNames(pod);
        if (sidecars.length === 1) return pass(`The sidecar is ${sidecars[0]}.`, { sidecars });
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
