// Mutants of an exercise's solutions: one mechanical change each to the parsed objects, for mutation-testing checks.
//
// Decisions:
// - Each mutant changes one thing (a container, a port in one field, one mount, one probe, …) in one solution file,
//   and keeps everything else, so the check that kills it says which sentence of the goal it tests.
// - Ids are `<operator>:<target>[:<detail>]`, made from names in the manifest (never from a counter), so they stay
//   the same from run to run and an exercise can declare one equivalent. Mutants of the reference solution (the first
//   file of solution/) carry no suffix; mutants of other solution files end in `@<file without extension>`.
// - Identical mutants (the same objects, key order aside) are graded once; a mutant identical to one of the
//   solutions is no mutant at all. By default the same change at the same site (operator and target, e.g.
//   `rename:main-app`) is also graded once, on the first solution that has it: other solution files then add only
//   the sites the reference lacks (a native sidecar, another path), which keeps a run of nine exercises with a dozen
//   accepted solutions within CI's time. All of these are returned as `duplicates`, so nothing is dropped silently;
//   `everySolution` grades every site of every file.
// - Not generated, because they are equivalent by construction: `containerPort` changes (the kubelet neither opens
//   nor checks the port; it is documentation) and named probe ports (they resolve to a containerPort).
import { type KubeObject, type ParsedManifests, parseManifests } from './manifests.ts';
import type { ExerciseFile } from './model.ts';

/** The operators, in the order their mutants are listed. */
export const OPERATORS = [
  'drop-container',
  'drop-object',
  'swap-image',
  'change-port',
  'drop-mount',
  'move-mount',
  'sleep-command',
  'probe-true',
  'zero-requests',
  'drop-limits',
  'to-container',
  'to-native',
  'rename',
  'exit-zero',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** One mutant: the solution file it came from with one change. */
export interface Mutant {
  /** Stable id, e.g. `drop-container:proxy` or `to-container:sidecar-logger@accepted/native-sidecar`. */
  id: string;
  operator: Operator;
  /** The solution file it was derived from, e.g. `solution/pod.yaml`. */
  source: string;
  /** One line: what changed. */
  description: string;
  /** The solution's objects with the change applied (answers as in the solution). */
  manifests: ParsedManifests;
}

/** A mutant not graded because an identical one (or a solution), or the same change on another solution, is. */
export interface DuplicateMutant {
  id: string;
  /** The id of the mutant it equals or repeats, or the solution file it equals. */
  sameAs: string;
  /** `identical`: the same objects; `same-site`: the same operator and target, on another solution file. */
  reason: 'identical' | 'same-site';
}

/** Options for `generateMutants`. */
export interface GenerateOptions {
  /** Names the exercise in parse errors, e.g. `exercises/first-sidecar`. */
  where?: string;
  /** Grade the same change at the same site on every solution file, not only on the first that has it. */
  everySolution?: boolean;
}

/** Everything generated for one exercise. */
export interface MutantSet {
  mutants: Mutant[];
  duplicates: DuplicateMutant[];
}

/** The images learners may run; a swap turns one into the other. */
const IMAGE_SWAP: Record<string, string> = { busybox: 'nginx:1.26', nginx: 'busybox' };
/** Port numbers looked for in commands and configuration files, besides those the manifest declares. */
const WELL_KNOWN_PORTS = [80, 443, 8080];
const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const;
const PROBE_HANDLERS = ['httpGet', 'tcpSocket', 'grpc', 'exec'] as const;

type Json = Record<string, unknown>;
type ContainerList = 'containers' | 'initContainers';

/** Where a container sits in a file's objects. */
interface ContainerSite {
  object: number;
  list: ContainerList;
  index: number;
  /** Container name, qualified with its object when the file has several workloads. */
  target: string;
}

/** A change found in one file, before ids are made unique across files. */
interface Change {
  operator: Operator;
  target: string;
  description: string;
  objects: KubeObject[];
}

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The Pod spec of a workload: a Pod's spec, or the Pod template's spec of a Job (or any templated kind). */
export function podSpecOf(object: KubeObject): Json | undefined {
  const spec = object.spec;
  if (!isRecord(spec)) return undefined;
  if (object.kind === 'Pod') return spec;
  const template = spec.template;
  return isRecord(template) && isRecord(template.spec) ? template.spec : undefined;
}

const containersIn = (spec: Json, list: ContainerList): Json[] =>
  Array.isArray(spec[list]) ? (spec[list] as unknown[]).filter(isRecord) : [];

function containerSites(objects: readonly KubeObject[]): ContainerSite[] {
  const workloads = objects.filter((o) => podSpecOf(o) !== undefined).length;
  return objects.flatMap((object, objectIndex) => {
    const spec = podSpecOf(object);
    if (!spec) return [];
    const prefix = workloads > 1 ? `${object.kind.toLowerCase()}/${object.metadata.name}/` : '';
    return (['initContainers', 'containers'] as const).flatMap((list) =>
      containersIn(spec, list).map((c, index) => ({ object: objectIndex, list, index, target: `${prefix}${c.name}` })),
    );
  });
}

/** A deep copy of the objects with `edit` applied to the container at `site` (and its Pod spec). */
function editContainer(
  objects: readonly KubeObject[],
  site: ContainerSite,
  edit: (container: Json, spec: Json) => void,
): KubeObject[] {
  const copy = structuredClone(objects) as KubeObject[];
  const spec = podSpecOf(copy[site.object] as KubeObject) as Json;
  edit(containersIn(spec, site.list)[site.index] as Json, spec);
  return copy;
}

/** Removes the container at `index` of `list`, dropping the list when it ends up empty. */
function removeFrom(spec: Json, list: ContainerList, index: number): Json {
  const items = spec[list] as Json[];
  const [removed] = items.splice(index, 1);
  if (items.length === 0 && list === 'initContainers') delete spec[list];
  return removed as Json;
}

const imageRepository = (image: string) => (image.split('/').pop() ?? image).split(/[:@]/)[0] ?? image;
const isNative = (container: Json) => container.restartPolicy === 'Always';
/** The shell text of a container's command and args, for reading (ports, exits). */
const fieldsWithText = ['command', 'args'] as const;

/** Port numbers written in `text` as a whole number (not part of a longer number or an address like 10.80.0.1). */
function portsIn(text: string, candidates: ReadonlySet<number>): number[] {
  return [...candidates].filter((port) => portPattern(port).test(text)).sort((a, b) => a - b);
}
const portPattern = (port: number) => new RegExp(`(?<![\\d.])${port}(?![\\d.])`, 'g');

/** Ports the file declares (containerPort, numeric probe ports) plus the well-known ones. */
function candidatePorts(objects: readonly KubeObject[]): Set<number> {
  const ports = new Set(WELL_KNOWN_PORTS);
  for (const object of objects) {
    const spec = podSpecOf(object);
    if (!spec) continue;
    for (const c of [...containersIn(spec, 'initContainers'), ...containersIn(spec, 'containers')]) {
      for (const p of Array.isArray(c.ports) ? c.ports.filter(isRecord) : []) {
        if (typeof p.containerPort === 'number') ports.add(p.containerPort);
      }
      for (const probe of PROBES) {
        const port = probePort(c[probe]);
        if (typeof port === 'number') ports.add(port);
      }
    }
  }
  return ports;
}

function probePort(probe: unknown): unknown {
  if (!isRecord(probe)) return undefined;
  for (const handler of ['httpGet', 'tcpSocket', 'grpc'] as const) {
    const h = probe[handler];
    if (isRecord(h)) return h.port;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Operators on containers: each returns the changes it can make to one container.
// ---------------------------------------------------------------------------------------------------------------

type ContainerOperator = (objects: readonly KubeObject[], site: ContainerSite, ports: ReadonlySet<number>) => Change[];

const change = (operator: Operator, target: string, description: string, objects: KubeObject[]): Change => ({
  operator,
  target,
  description,
  objects,
});

const containerAt = (objects: readonly KubeObject[], site: ContainerSite) =>
  containersIn(podSpecOf(objects[site.object] as KubeObject) as Json, site.list)[site.index] as Json;

const dropContainer: ContainerOperator = (objects, site) => [
  change(
    'drop-container',
    site.target,
    `container ${site.target} removed`,
    editContainer(objects, site, (_c, spec) => removeFrom(spec, site.list, site.index)),
  ),
];

const swapImage: ContainerOperator = (objects, site) => {
  const image = containerAt(objects, site).image;
  const swapped = typeof image === 'string' ? IMAGE_SWAP[imageRepository(image)] : undefined;
  if (!swapped) return [];
  return [
    change(
      'swap-image',
      site.target,
      `${site.target} runs ${swapped} instead of ${image}`,
      editContainer(objects, site, (c) => {
        c.image = swapped;
      }),
    ),
  ];
};

const changePort: ContainerOperator = (objects, site, ports) => {
  const container = containerAt(objects, site);
  const changes: Change[] = [];
  for (const field of fieldsWithText) {
    const value = container[field];
    if (!Array.isArray(value)) continue;
    for (const port of portsIn(value.join('\n'), ports)) {
      changes.push(
        change(
          'change-port',
          `${site.target}:${field}:${port}`,
          `${site.target}'s ${field} uses port ${port + 1} instead of ${port}`,
          editContainer(objects, site, (c) => {
            c[field] = (c[field] as unknown[]).map((s) =>
              typeof s === 'string' ? s.replace(portPattern(port), String(port + 1)) : s,
            );
          }),
        ),
      );
    }
  }
  for (const probe of PROBES) {
    const port = probePort(container[probe]);
    if (typeof port !== 'number') continue;
    changes.push(
      change(
        'change-port',
        `${site.target}:${probe}:${port}`,
        `${site.target}'s ${probe} targets port ${port + 1} instead of ${port}`,
        editContainer(objects, site, (c) => {
          const handler = Object.values(c[probe] as Json).find((h) => isRecord(h) && h.port === port) as Json;
          handler.port = port + 1;
        }),
      ),
    );
  }
  return changes;
};

const mountOperators: ContainerOperator = (objects, site) => {
  const mounts = containerAt(objects, site).volumeMounts;
  if (!Array.isArray(mounts)) return [];
  return mounts.filter(isRecord).flatMap((mount, index) => {
    const path = String(mount.mountPath);
    const elsewhere = `${path.replace(/\/+$/, '')}-elsewhere`;
    return [
      change(
        'drop-mount',
        `${site.target}:${path}`,
        `${site.target} no longer mounts volume ${String(mount.name)} at ${path}`,
        editContainer(objects, site, (c) => {
          const list = c.volumeMounts as unknown[];
          list.splice(index, 1);
          if (list.length === 0) delete c.volumeMounts;
        }),
      ),
      change(
        'move-mount',
        `${site.target}:${path}`,
        `${site.target} mounts volume ${String(mount.name)} at ${elsewhere} instead of ${path}`,
        editContainer(objects, site, (c) => {
          ((c.volumeMounts as Json[])[index] as Json).mountPath = elsewhere;
        }),
      ),
    ];
  });
};

const sleepCommand: ContainerOperator = (objects, site) => [
  change(
    'sleep-command',
    site.target,
    `${site.target} runs \`sleep 3600\` instead of its command`,
    editContainer(objects, site, (c) => {
      c.command = ['sleep', '3600'];
      delete c.args;
    }),
  ),
];

const probeTrue: ContainerOperator = (objects, site) =>
  PROBES.filter((probe) => isRecord(containerAt(objects, site)[probe])).map((probe) =>
    change(
      'probe-true',
      `${site.target}:${probe}`,
      `${site.target}'s ${probe} runs \`true\` instead of testing anything`,
      editContainer(objects, site, (c) => {
        const kept = c[probe] as Json;
        for (const handler of PROBE_HANDLERS) delete kept[handler];
        kept.exec = { command: ['true'] };
      }),
    ),
  );

function resourcesOf(container: Json): Json {
  return isRecord(container.resources) ? container.resources : {};
}

const zeroRequests: ContainerOperator = (objects, site) => {
  const requests = resourcesOf(containerAt(objects, site)).requests;
  if (!isRecord(requests) || Object.keys(requests).length === 0) return [];
  return [
    change(
      'zero-requests',
      site.target,
      `${site.target} requests 0 of ${Object.keys(requests).join(' and ')}`,
      editContainer(objects, site, (c) => {
        const r = resourcesOf(c).requests as Json;
        for (const key of Object.keys(r)) r[key] = '0';
      }),
    ),
  ];
};

const dropLimits: ContainerOperator = (objects, site) => {
  if (!isRecord(resourcesOf(containerAt(objects, site)).limits)) return [];
  return [
    change(
      'drop-limits',
      site.target,
      `${site.target} has no limits`,
      editContainer(objects, site, (c) => {
        const resources = resourcesOf(c);
        delete resources.limits;
        if (Object.keys(resources).length === 0) delete c.resources;
      }),
    ),
  ];
};

/** A native sidecar becomes an ordinary container, or (when another ordinary container remains) the reverse. */
const moveKind: ContainerOperator = (objects, site) => {
  const container = containerAt(objects, site);
  if (site.list === 'initContainers') {
    if (!isNative(container)) return [];
    return [
      change(
        'to-container',
        site.target,
        `native sidecar ${site.target} moved to spec.containers (without restartPolicy: Always)`,
        editContainer(objects, site, (_c, spec) => {
          const moved = removeFrom(spec, 'initContainers', site.index);
          delete moved.restartPolicy;
          (spec.containers as Json[]).push(moved);
        }),
      ),
    ];
  }
  const spec = podSpecOf(objects[site.object] as KubeObject) as Json;
  // With no other ordinary container left, the Pod would be refused: that is drop-container's mutant already.
  if (containersIn(spec, 'containers').length < 2) return [];
  return [
    change(
      'to-native',
      site.target,
      `${site.target} moved to spec.initContainers with restartPolicy: Always (a native sidecar)`,
      editContainer(objects, site, (_c, podSpec) => {
        const moved = removeFrom(podSpec, 'containers', site.index);
        moved.restartPolicy = 'Always';
        podSpec.initContainers = [...containersIn(podSpec, 'initContainers'), moved];
      }),
    ),
  ];
};

const rename: ContainerOperator = (objects, site) => {
  const name = String(containerAt(objects, site).name);
  return [
    change(
      'rename',
      site.target,
      `${site.target} renamed to ${name}-renamed`,
      editContainer(objects, site, (c) => {
        c.name = `${name}-renamed`;
      }),
    ),
  ];
};

/** A scripted container exits 0: its `exit N` (N ≠ 0) become `exit 0`, or, with none, it exits 0 at once. */
const exitZero: ContainerOperator = (objects, site) => {
  const container = containerAt(objects, site);
  if (!Array.isArray(container.command)) return [];
  const failing = () => /\bexit\s+[1-9]\d*\b/g;
  const text = fieldsWithText.flatMap((f) => (Array.isArray(container[f]) ? container[f] : [])).join('\n');
  const rewrites = failing().test(text);
  return [
    change(
      'exit-zero',
      site.target,
      rewrites ? `${site.target} exits with code 0 instead of an error` : `${site.target} exits with code 0 at once`,
      editContainer(objects, site, (c) => {
        if (!rewrites) {
          c.command = ['sh', '-c', 'exit 0'];
          delete c.args;
          return;
        }
        for (const field of fieldsWithText) {
          if (Array.isArray(c[field])) {
            c[field] = c[field].map((s: unknown) => (typeof s === 'string' ? s.replace(failing(), 'exit 0') : s));
          }
        }
      }),
    ),
  ];
};

/** Container operators by the operator name they produce, in OPERATORS order. */
const CONTAINER_OPERATORS: ContainerOperator[] = [
  dropContainer,
  swapImage,
  changePort,
  mountOperators,
  sleepCommand,
  probeTrue,
  zeroRequests,
  dropLimits,
  moveKind,
  rename,
  exitZero,
];

// ---------------------------------------------------------------------------------------------------------------
// Operators on other objects (ConfigMaps and the like).
// ---------------------------------------------------------------------------------------------------------------

const objectName = (object: KubeObject) => `${object.kind.toLowerCase()}/${object.metadata.name}`;

function objectChanges(objects: readonly KubeObject[], ports: ReadonlySet<number>): Change[] {
  const changes: Change[] = [];
  objects.forEach((object, index) => {
    if (podSpecOf(object)) return;
    const name = objectName(object);
    changes.push(
      change(
        'drop-object',
        name,
        `${name} removed`,
        objects.filter((_, i) => i !== index).map((o) => structuredClone(o)),
      ),
    );
    const data = isRecord(object.data) ? object.data : {};
    for (const [key, value] of Object.entries(data)) {
      if (typeof value !== 'string') continue;
      for (const port of portsIn(value, ports)) {
        const copy = structuredClone(objects) as KubeObject[];
        (copy[index]?.data as Json)[key] = value.replace(portPattern(port), String(port + 1));
        changes.push(
          change(
            'change-port',
            `${name}:${key}:${port}`,
            `${name}'s ${key} uses port ${port + 1} instead of ${port}`,
            copy,
          ),
        );
      }
    }
  });
  return changes;
}

/** Every single change the operators can make to one file's objects, in operator order. */
export function changesOf(objects: readonly KubeObject[]): Change[] {
  const ports = candidatePorts(objects);
  const sites = containerSites(objects);
  const all = [
    ...objectChanges(objects, ports),
    ...CONTAINER_OPERATORS.flatMap((op) => sites.flatMap((site) => op(objects, site, ports))),
  ];
  const order = (c: Change) => OPERATORS.indexOf(c.operator);
  return all
    .map((c, i) => ({ c, i }))
    .sort((a, b) => order(a.c) - order(b.c) || a.i - b.i)
    .map(({ c }) => c);
}

// ---------------------------------------------------------------------------------------------------------------
// Mutant sets.
// ---------------------------------------------------------------------------------------------------------------

/** JSON with object keys sorted: equal for objects that differ only in key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/** The file's path without its extension, as used in mutant ids: `accepted/native-sidecar`. */
const sourceStem = (path: string) => path.replace(/\.(ya?ml|json)$/i, '');

/** The mutants of an exercise's solution files (solution/ first, then accepted/), deduplicated, with stable ids. */
export function generateMutants(solutions: readonly ExerciseFile[], options: GenerateOptions = {}): MutantSet {
  const where = options.where ?? 'exercise';
  const parsed = solutions.map((file) => ({ file, manifests: parseManifests(file.content, `${where}/${file.path}`) }));
  const seen = new Map<string, string>();
  for (const { file, manifests } of parsed) seen.set(canonicalJson(manifests.objects.map((d) => d.object)), file.path);
  /** Site (`operator:target`) → the id of the first mutant graded there. */
  const sites = new Map<string, string>();
  const result: MutantSet = { mutants: [], duplicates: [] };
  parsed.forEach(({ file, manifests }, fileIndex) => {
    const suffix = fileIndex === 0 ? '' : `@${sourceStem(file.path)}`;
    for (const c of changesOf(manifests.objects.map((d) => d.object))) {
      const site = `${c.operator}:${c.target}`;
      const id = `${site}${suffix}`;
      const key = canonicalJson(c.objects);
      const sameAs = seen.get(key);
      if (sameAs !== undefined) {
        result.duplicates.push({ id, sameAs, reason: 'identical' });
        continue;
      }
      const sameSite = sites.get(site);
      if (sameSite !== undefined && !options.everySolution) {
        result.duplicates.push({ id, sameAs: sameSite, reason: 'same-site' });
        continue;
      }
      sites.set(site, id);
      if (result.mutants.some((m) => m.id === id)) throw new Error(`${where}: two different mutants are both "${id}"`);
      seen.set(key, id);
      const objects = c.objects.map((object, i) => ({ ...locationOf(manifests, object, i), object }));
      result.mutants.push({
        id,
        operator: c.operator,
        source: file.path,
        description: c.description,
        manifests: { objects, answers: manifests.answers },
      });
    }
  });
  return result;
}

/** Where a mutated object came from in its file (by name; a dropped object shifts the others). */
function locationOf(manifests: ParsedManifests, object: KubeObject, index: number): { file: string; line: number } {
  const original =
    manifests.objects.find((d) => d.object.kind === object.kind && d.object.metadata.name === object.metadata.name) ??
    manifests.objects[index];
  return { file: original?.file ?? 'mutant', line: original?.line ?? 1 };
}
