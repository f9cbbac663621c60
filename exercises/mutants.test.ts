// The mutant generator: each operator on a small manifest, deduplication, and ids that stay the same between runs.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { canonicalJson, generateMutants, type Mutant, OPERATORS } from './mutants.ts';
import { exercises } from './registry.ts';

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: demo
spec:
  initContainers:
  - name: shipper
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "tail -F /logs/app.log"]
    volumeMounts:
    - name: logs
      mountPath: /logs
  containers:
  - name: app
    image: nginx:1.26
    ports:
    - containerPort: 80
    readinessProbe:
      httpGet: {path: /, port: 80}
      periodSeconds: 5
    volumeMounts:
    - name: logs
      mountPath: /var/log/nginx
  - name: flaky
    image: busybox
    command: ["sh", "-c"]
    args: ["wget -qO- http://127.0.0.1:80/; sleep 5; exit 3"]
    resources:
      requests: {cpu: 10m, memory: 16Mi}
      limits: {cpu: 100m, memory: 64Mi}
  volumes:
  - name: logs
    emptyDir: {}
`;

const CONFIG = `apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
data:
  default.conf: "server { listen 80; location / { proxy_pass http://10.80.0.1:8080; } }"
---
`;

const file = (path: string, content: string) => ({ path, content });
const mutantsOf = (...files: Array<{ path: string; content: string }>) => mutantsWith(true, ...files);
const mutantsWith = (everySolution: boolean, ...files: Array<{ path: string; content: string }>) =>
  generateMutants(files, { where: 'test', everySolution });
const byId = (mutants: Mutant[], id: string) => {
  const found = mutants.find((m) => m.id === id);
  if (!found) throw new Error(`no mutant ${id}; have ${mutants.map((m) => m.id).join(', ')}`);
  return found;
};
/** The mutant's Pod spec as plain data. */
const podSpec = (m: Mutant) => {
  const pod = m.manifests.objects.find((d) => d.object.kind === 'Pod')?.object as unknown as {
    spec: Record<string, unknown>;
  };
  return pod.spec as {
    containers: Array<Record<string, unknown>>;
    initContainers?: Array<Record<string, unknown>>;
  };
};
const container = (m: Mutant, name: string) => {
  const spec = podSpec(m);
  return [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === name);
};
const original = () => parse(POD) as { spec: { containers: Array<Record<string, unknown>> } };

describe('mutant operators', () => {
  const { mutants } = mutantsOf(file('solution/pod.yaml', POD));

  it('drop-container removes one container, from either list', () => {
    expect(container(byId(mutants, 'drop-container:app'), 'app')).toBeUndefined();
    expect(podSpec(byId(mutants, 'drop-container:app')).containers.map((c) => c.name)).toEqual(['flaky']);
    // The last init container removed: the list goes, as a learner would write it.
    expect(podSpec(byId(mutants, 'drop-container:shipper')).initContainers).toBeUndefined();
  });

  it('swap-image turns busybox into nginx and back', () => {
    expect(container(byId(mutants, 'swap-image:app'), 'app')?.image).toBe('busybox');
    expect(container(byId(mutants, 'swap-image:shipper'), 'shipper')?.image).toBe('nginx:1.26');
  });

  it('change-port changes one field: a port in a command, or a probe port; never containerPort', () => {
    const inArgs = container(byId(mutants, 'change-port:flaky:args:80'), 'flaky');
    expect(inArgs?.args).toEqual(['wget -qO- http://127.0.0.1:81/; sleep 5; exit 3']);
    const probe = container(byId(mutants, 'change-port:app:readinessProbe:80'), 'app');
    expect(probe?.readinessProbe).toEqual({ httpGet: { path: '/', port: 81 }, periodSeconds: 5 });
    expect(probe?.ports).toEqual([{ containerPort: 80 }]);
    expect(mutants.filter((m) => m.operator === 'change-port').map((m) => m.id)).toEqual([
      'change-port:app:readinessProbe:80',
      'change-port:flaky:args:80',
    ]);
  });

  it('drop-mount and move-mount change one volumeMount', () => {
    expect(container(byId(mutants, 'drop-mount:app:/var/log/nginx'), 'app')?.volumeMounts).toBeUndefined();
    expect(container(byId(mutants, 'move-mount:shipper:/logs'), 'shipper')?.volumeMounts).toEqual([
      { name: 'logs', mountPath: '/logs-elsewhere' },
    ]);
  });

  it('sleep-command replaces command and args with sleep 3600', () => {
    const flaky = container(byId(mutants, 'sleep-command:flaky'), 'flaky');
    expect(flaky?.command).toEqual(['sleep', '3600']);
    expect(flaky).not.toHaveProperty('args');
    expect(container(byId(mutants, 'sleep-command:app'), 'app')?.command).toEqual(['sleep', '3600']);
  });

  it('probe-true replaces the handler and keeps the timing', () => {
    expect(container(byId(mutants, 'probe-true:app:readinessProbe'), 'app')?.readinessProbe).toEqual({
      exec: { command: ['true'] },
      periodSeconds: 5,
    });
    expect(mutants.filter((m) => m.operator === 'probe-true')).toHaveLength(1);
  });

  it('zero-requests and drop-limits change only containers that have them', () => {
    expect(container(byId(mutants, 'zero-requests:flaky'), 'flaky')?.resources).toEqual({
      requests: { cpu: '0', memory: '0' },
      limits: { cpu: '100m', memory: '64Mi' },
    });
    expect(container(byId(mutants, 'drop-limits:flaky'), 'flaky')?.resources).toEqual({
      requests: { cpu: '10m', memory: '16Mi' },
    });
    expect(mutants.filter((m) => m.operator === 'zero-requests' || m.operator === 'drop-limits')).toHaveLength(2);
  });

  it('to-container and to-native move a sidecar between the lists', () => {
    const ordinary = podSpec(byId(mutants, 'to-container:shipper'));
    expect(ordinary.initContainers).toBeUndefined();
    expect(ordinary.containers.at(-1)).toMatchObject({ name: 'shipper' });
    expect(ordinary.containers.at(-1)).not.toHaveProperty('restartPolicy');
    const native = podSpec(byId(mutants, 'to-native:flaky'));
    expect(native.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
      ['shipper', 'Always'],
      ['flaky', 'Always'],
    ]);
    expect(native.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('to-native is not generated when no ordinary container would remain', () => {
    const single = POD.replace(/ {2}- name: flaky[\s\S]*?(?= {2}volumes:)/, '');
    expect(mutantsOf(file('solution/pod.yaml', single)).mutants.filter((m) => m.operator === 'to-native')).toEqual([]);
  });

  it('rename renames one container', () => {
    expect(container(byId(mutants, 'rename:app'), 'app-renamed')).toBeDefined();
    expect(container(byId(mutants, 'rename:app'), 'app')).toBeUndefined();
  });

  it('exit-zero turns `exit N` into `exit 0`, or makes a scripted container exit 0 at once', () => {
    expect(container(byId(mutants, 'exit-zero:flaky'), 'flaky')?.args).toEqual([
      'wget -qO- http://127.0.0.1:80/; sleep 5; exit 0',
    ]);
    expect(container(byId(mutants, 'exit-zero:shipper'), 'shipper')?.command).toEqual(['sh', '-c', 'exit 0']);
    // nginx runs its image's own command: nothing to rewrite.
    expect(mutants.find((m) => m.id === 'exit-zero:app')).toBeUndefined();
  });

  it('leaves the solution untouched and changes exactly one thing per mutant', () => {
    expect(parse(POD)).toEqual(original());
    for (const m of mutants)
      expect(canonicalJson(m.manifests.objects.map((d) => d.object))).not.toBe(canonicalJson([parse(POD)]));
  });

  it('works on a Job template and on ConfigMaps', () => {
    const job = `apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: worker, image: busybox, command: ["sh", "-c", "echo hi"]}
`;
    const set = mutantsOf(file('solution/all.yaml', `${CONFIG}${job}`));
    expect(set.mutants.map((m) => m.id)).toEqual([
      'drop-container:worker',
      'drop-object:configmap/conf',
      'swap-image:worker',
      'change-port:configmap/conf:default.conf:80',
      'change-port:configmap/conf:default.conf:8080',
      'sleep-command:worker',
      'rename:worker',
      'exit-zero:worker',
    ]);
    const config = (m: Mutant) =>
      (m.manifests.objects[0]?.object.data as Record<string, string> | undefined)?.['default.conf'];
    // 10.80.0.1 is an address, not port 80.
    expect(config(byId(set.mutants, 'change-port:configmap/conf:default.conf:80'))).toBe(
      'server { listen 81; location / { proxy_pass http://10.80.0.1:8080; } }',
    );
    expect(byId(set.mutants, 'drop-object:configmap/conf').manifests.objects.map((d) => d.object.kind)).toEqual([
      'Job',
    ]);
    expect(byId(set.mutants, 'rename:worker').manifests.objects[1]).toMatchObject({ file: 'test/solution/all.yaml' });
  });
});

describe('mutant sets', () => {
  it('ids are stable: the same files give the same ids, in the same order', () => {
    const a = mutantsOf(
      file('solution/pod.yaml', POD),
      file('accepted/other.yaml', POD.replace('mountPath: /logs', 'mountPath: /l')),
    );
    const b = mutantsOf(
      file('solution/pod.yaml', POD),
      file('accepted/other.yaml', POD.replace('mountPath: /logs', 'mountPath: /l')),
    );
    expect(a.mutants.map((m) => m.id)).toEqual(b.mutants.map((m) => m.id));
    expect(new Set(a.mutants.map((m) => m.id)).size).toBe(a.mutants.length);
    expect(a.mutants.map((m) => m.id)).toContain('move-mount:shipper:/l@accepted/other');
    expect(a.mutants.every((m) => OPERATORS.includes(m.operator))).toBe(true);
  });

  it('grades identical mutants once, and drops a mutant equal to a solution', () => {
    // The accepted file differs only in key order and in the shipper's mount path.
    const reordered = POD.replace('name: shipper\n    image: busybox', 'image: busybox\n    name: shipper').replace(
      'mountPath: /logs',
      'mountPath: /logs-elsewhere',
    );
    const set = mutantsOf(file('solution/pod.yaml', POD), file('accepted/moved.yaml', reordered));
    // Moving the solution's mount gives the accepted solution itself: not a mutant.
    expect(set.mutants.map((m) => m.id)).not.toContain('move-mount:shipper:/logs');
    expect(set.duplicates).toContainEqual({
      id: 'move-mount:shipper:/logs',
      sameAs: 'accepted/moved.yaml',
      reason: 'identical',
    });
    // Dropping the shipper from either file gives the same Pod: graded once, under the first id.
    expect(set.duplicates).toContainEqual({
      id: 'drop-container:shipper@accepted/moved',
      sameAs: 'drop-container:shipper',
      reason: 'identical',
    });
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe(canonicalJson({ a: [{ c: 2, d: 1 }], b: 1 }));
  });

  it('by default grades a change at one site once, on the first solution file that has it', () => {
    const other = file('accepted/other.yaml', POD.replace('mountPath: /logs', 'mountPath: /l'));
    const once = mutantsWith(false, file('solution/pod.yaml', POD), other);
    const every = mutantsWith(true, file('solution/pod.yaml', POD), other);
    const onOther = (set: typeof once) =>
      set.mutants.filter((m) => m.source === 'accepted/other.yaml').map((m) => m.id);
    // Only the sites the reference lacks: the shipper's other mount path (dropping it gives the reference's mutant).
    expect(onOther(once)).toEqual(['move-mount:shipper:/l@accepted/other']);
    expect(once.duplicates).toContainEqual({
      id: 'drop-mount:shipper:/l@accepted/other',
      sameAs: 'drop-mount:shipper:/logs',
      reason: 'identical',
    });
    expect(once.duplicates).toContainEqual({
      id: 'rename:app@accepted/other',
      sameAs: 'rename:app',
      reason: 'same-site',
    });
    expect(onOther(every)).toContain('rename:app@accepted/other');
    expect(once.mutants.length + once.duplicates.length).toBe(every.mutants.length + every.duplicates.length);
  });

  it.each([...exercises.values()])('$id: declared equivalent mutants are generated', (exercise) => {
    const set = generateMutants([...exercise.solution, ...exercise.accepted], { where: exercise.id });
    const ids = new Set([...set.mutants, ...set.duplicates].map((m) => m.id));
    expect(exercise.equivalentMutants.map((e) => e.id).filter((id) => !ids.has(id))).toEqual([]);
  });
});
