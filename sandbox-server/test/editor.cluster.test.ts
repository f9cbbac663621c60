// The editor's server side on the real server and cluster: reading a file of the home folder (what the terminal wrote,
// confined like the write) and validating a manifest as a dry-run apply by the learner, with the API server's words
// placed on the line of the field they name.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../tests/support/kubectl.ts';
import type { Learner } from './harness.ts';
import { type TwoLearners, twoLearners } from './two-learners.ts';

let learners: TwoLearners | undefined;
/** A reads and validates in its own sandbox; B tries A's files. */
let a: Learner;
let b: Learner;
let sandboxA: { id: string; namespace: string };

const SEED = readFileSync('lessons/manifests/seed-nginx-with-sidecar.yaml', 'utf8');
const inToolbox = (ns: string, script: string) =>
  kubectl(['-n', ns, 'exec', 'toolbox', '-c', 'shell', '--', 'bash', '-c', script]);
const read = (learner: Learner, id: string, path: string) =>
  learner.request('GET', `/api/sandboxes/${id}/files?path=${encodeURIComponent(path)}`);
const validate = async (content: string) => {
  const response = await a.request('POST', `/api/sandboxes/${sandboxA.id}/validate`, { content });
  expect(response.status).toBe(200);
  return response.json.diagnostics as Array<{ line: number; message: string; source: string }>;
};

beforeAll(async () => {
  learners = await twoLearners();
  ({ a, b, sandboxA } = learners);
}, 240_000);

afterAll(async () => {
  await learners?.stop();
});

describe('reading a file of the home folder', () => {
  it('reads what the page wrote, and what the terminal changed afterwards', async () => {
    expect(
      (await a.request('POST', `/api/sandboxes/${sandboxA.id}/files`, { path: 'pod.yaml', content: SEED })).status,
    ).toBe(204);
    const first = await read(a, sandboxA.id, 'pod.yaml');
    expect([first.status, first.json.content]).toEqual([200, SEED]);
    await inToolbox(sandboxA.namespace, 'sed -i s/nginx:1.26/nginx:latest/ ~/pod.yaml');
    const changed = await read(a, sandboxA.id, 'pod.yaml');
    expect(changed.json.content).toBe(SEED.replace('nginx:1.26', 'nginx:latest'));
  });

  it('refuses paths and links out of the home folder, missing and oversized files, and other learners', async () => {
    expect((await read(a, sandboxA.id, '../../etc/passwd')).status).toBe(400);
    await inToolbox(
      sandboxA.namespace,
      'ln -sf /etc/passwd ~/passwd.yaml && head -c 70000 /dev/zero | tr "\\0" x > ~/big.yaml',
    );
    const link = await read(a, sandboxA.id, 'passwd.yaml');
    expect([link.status, link.json.error.message]).toEqual([
      409,
      'could not read passwd.yaml: it leads outside /home/learner',
    ]);
    const missing = await read(a, sandboxA.id, 'nothing.yaml');
    expect([missing.status, missing.json.error.message]).toEqual([404, 'no file ~/nothing.yaml']);
    expect((await read(a, sandboxA.id, 'big.yaml')).status).toBe(413);
    const theirs = await read(b, sandboxA.id, 'pod.yaml');
    expect([theirs.status, theirs.json.error.message]).toEqual([404, 'no such sandbox']);
  });
});

describe('validating a manifest as the learner would apply it, without applying it', () => {
  it("finds nothing wrong with the seed's Pod, and creates nothing", async () => {
    expect(await validate(SEED)).toEqual([]);
    const pods = await kubectl(['-n', sandboxA.namespace, 'get', 'pods', '-o', 'name']);
    expect(pods).not.toContain('nginx-with-sidecar');
  });

  it("underlines an unknown field, a misplaced key and a wrong type on their lines, in the API server's words", async () => {
    // An unknown field (restartpolicy), a key one level too shallow (image under spec) and a string for a number.
    const broken = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: web',
      'spec:',
      '  restartpolicy: Never',
      '  image: nginx',
      '  containers:',
      '  - name: nginx',
      '    image: nginx:1.26',
      '    ports:',
      '    - containerPort: eighty',
      '',
    ].join('\n');
    const lineOf = (text: string) => broken.split('\n').findIndex((l) => l.includes(text)) + 1;
    const found = await validate(broken);
    expect(found).toContainEqual({
      line: lineOf('restartpolicy'),
      message: 'unknown field "spec.restartpolicy"',
      source: 'api',
    });
    expect(found).toContainEqual(expect.objectContaining({ line: lineOf('containerPort: eighty'), source: 'api' }));
    expect(found.find((d) => d.line === lineOf('containerPort: eighty'))?.message).toMatch(
      /containerPort: expected int32, got string|containerPort: expected numeric/,
    );
    expect(found).toContainEqual(
      expect.objectContaining({ line: lineOf('  image: nginx'), message: 'unknown field "spec.image"' }),
    );
  });

  it('says where the YAML itself is broken', async () => {
    const found = await validate('apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   bad: indent\n');
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]).toMatchObject({ source: 'yaml' });
    expect(found[0]!.line).toBeGreaterThanOrEqual(4);
  });
});

describe("the cluster's field tree for completion", () => {
  it('gives the fields of the kinds learners write, from the API server, to the sandbox owner only', async () => {
    const response = await a.request('GET', `/api/sandboxes/${sandboxA.id}/schema`);
    expect(response.status).toBe(200);
    const schema = response.json as {
      kinds: Record<string, string>;
      types: Record<string, Record<string, { type: string; ref?: string; description: string; enum?: string[] }>>;
    };
    expect(Object.keys(schema.kinds)).toEqual(
      expect.arrayContaining(['v1/Pod', 'v1/Service', 'v1/ConfigMap', 'apps/v1/Deployment', 'batch/v1/Job']),
    );
    const pod = schema.types[schema.kinds['v1/Pod'] ?? ''] ?? {};
    const spec = schema.types[pod.spec?.ref ?? ''] ?? {};
    expect(spec.containers).toMatchObject({ type: 'list', ref: 'io.k8s.api.core.v1.Container' });
    expect(spec.restartPolicy?.enum).toEqual(expect.arrayContaining(['Always', 'Never', 'OnFailure']));
    const container = schema.types[spec.containers?.ref ?? ''] ?? {};
    expect(Object.keys(container)).toEqual(expect.arrayContaining(['name', 'image', 'restartPolicy', 'ports']));
    expect(container.image?.description).toMatch(/Container image name/);
    // A second request is served from the server's copy: the same tree.
    expect((await a.request('GET', `/api/sandboxes/${sandboxA.id}/schema`)).json).toEqual(schema);
    const theirs = await b.request('GET', `/api/sandboxes/${sandboxA.id}/schema`);
    expect([theirs.status, theirs.json.error.message]).toEqual([404, 'no such sandbox']);
  });
});
