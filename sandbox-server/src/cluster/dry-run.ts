// Validates a learner's manifest file the way `kubectl apply` would, without applying it: each YAML document goes to
// the API server as a server-side apply with `dryRun=All` and `fieldValidation=Strict`, as the sandbox's learner. The
// API server's own words come back, placed on the line of the field they name.
import { isMap, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml';
import type { Kube } from './kube.ts';
import { LEARNER_SA } from './labels.ts';
import { RestClient } from './rest.ts';

export interface Diagnostic {
  /** 1-based line of the field the message names (the document's first line when it names none). */
  line: number;
  message: string;
  /** `yaml` for a file that is not YAML, `api` for the API server's refusal. */
  source: 'yaml' | 'api';
}

/** Where each kind the learner may write lives: group/version path and plural. */
const KINDS: Record<string, { prefix: string; plural: string }> = {
  'v1/Pod': { prefix: '/api/v1', plural: 'pods' },
  'v1/Service': { prefix: '/api/v1', plural: 'services' },
  'v1/ConfigMap': { prefix: '/api/v1', plural: 'configmaps' },
  'v1/Secret': { prefix: '/api/v1', plural: 'secrets' },
  'apps/v1/Deployment': { prefix: '/apis/apps/v1', plural: 'deployments' },
  'apps/v1/StatefulSet': { prefix: '/apis/apps/v1', plural: 'statefulsets' },
  'apps/v1/DaemonSet': { prefix: '/apis/apps/v1', plural: 'daemonsets' },
  'apps/v1/ReplicaSet': { prefix: '/apis/apps/v1', plural: 'replicasets' },
  'batch/v1/Job': { prefix: '/apis/batch/v1', plural: 'jobs' },
  'batch/v1/CronJob': { prefix: '/apis/batch/v1', plural: 'cronjobs' },
};

/** One step of a field path: a key, a list index, or a list item picked by its keys (`[name="nginx"]`). */
export type Step = string | number | Record<string, string>;

/**
 * A field path as the API server writes it: `.spec.containers[0].image`, `spec.image`, or server-side apply's
 * `.spec.containers[name="nginx"].ports[containerPort="80",protocol="TCP"].containerPort`.
 */
export function fieldPath(text: string): Step[] {
  const path: Step[] = [];
  for (const match of text.matchAll(/\.?([^.[\]]+)|\[(\d+)\]|\[([^\]]*=[^\]]*)\]/g)) {
    if (match[1] !== undefined) path.push(match[1]);
    else if (match[2] !== undefined) path.push(Number(match[2]));
    else {
      const keys: Record<string, string> = {};
      for (const pair of (match[3] ?? '').matchAll(/([A-Za-z0-9_-]+)="([^"]*)"/g)) keys[pair[1] ?? ''] = pair[2] ?? '';
      path.push(keys);
    }
  }
  return path;
}

/** An item picked by `[k="v",…]`: every key the file sets matches (the rest, like a defaulted protocol, is not there). */
function matchesKeys(item: Record<string, unknown>, keys: Record<string, string>): boolean {
  const present = Object.entries(keys).filter(([k]) => item[k] !== undefined);
  return present.length > 0 && present.every(([k, v]) => String(item[k]) === v);
}

/** Removes the field at `path` (key steps only; every list item) so a second decoding can go past it. */
function without(value: unknown, path: string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => without(item, path));
  if (typeof value !== 'object' || value === null || path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0) delete copy[head];
  else if (head in copy) copy[head] = without(copy[head], rest);
  return copy;
}

/**
 * The offset of the deepest node along `path` that exists (a key's own position for a key step). A key step met at
 * a list (Go's decoding errors name no index) looks into each item and keeps the one that reaches deepest.
 */
function locate(node: unknown, path: Step[]): { depth: number; offset: number | undefined } {
  const here = { depth: 0, offset: (node as Node | null)?.range?.[0] };
  const [step, ...rest] = path;
  if (step === undefined) return here;
  if (isMap(node) && typeof step === 'string') {
    const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === step);
    if (!pair) return here;
    const deeper = locate(pair.value, rest);
    return deeper.depth > 0
      ? { depth: deeper.depth + 1, offset: deeper.offset }
      : { depth: 1, offset: (pair.key as Node).range?.[0] };
  }
  if (!isSeq(node)) return here;
  const candidates =
    typeof step === 'number'
      ? [{ item: node.items[step], rest }]
      : typeof step === 'object'
        ? node.items
            .filter((item) => isMap(item) && matchesKeys(item.toJSON() as Record<string, unknown>, step))
            .map((item) => ({ item, rest }))
        : node.items.map((item) => ({ item, rest: path }));
  let best = here;
  for (const { item, rest: remaining } of candidates) {
    if (!item) continue;
    const found = locate(item, remaining);
    const depth = found.depth + (remaining === path ? 0 : 1);
    if (depth > best.depth) best = { depth, offset: found.offset };
  }
  return best;
}

/** Each problem an API server message names, with the field path it names (empty when none). */
export function problems(message: string): Array<{ path: Step[]; text: string }> {
  const found: Array<{ path: Step[]; text: string }> = [];
  // Strict decoding: `unknown field "spec.image"`, `duplicate field "x"`.
  for (const m of message.matchAll(/(unknown|duplicate) field "([^"]+)"/g)) {
    found.push({ path: fieldPath(m[2] ?? ''), text: m[0] });
  }
  // Decoding a wrong type: `cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32`.
  for (const m of message.matchAll(/cannot unmarshal (\w+) into Go struct field \w+\.(\S+) of type (\S+)/g)) {
    found.push({ path: fieldPath(m[2] ?? ''), text: `${m[2]}: expected ${m[3]}, got ${m[1]}` });
  }
  // Server-side apply's typed errors, one per line after `errors:` or one after the object.
  for (const m of message.matchAll(/(?:^|\s)(\.[^\s:]+): ([^\n]+)/g)) {
    found.push({ path: fieldPath(m[1] ?? ''), text: `${m[1]}: ${(m[2] ?? '').trim()}` });
  }
  return found.length > 0 ? found : [{ path: [], text: message }];
}

/** The API server's message in a Status body. */
function statusMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  } catch {
    // not a Status
  }
  return body.slice(0, 500);
}

/** Every problem `kubectl apply -f` would meet with `text` in `namespace`, none applied. */
export async function validateManifests(kube: Kube, namespace: string, text: string): Promise<Diagnostic[]> {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines });
  const lineAt = (offset: number | undefined) => (offset === undefined ? 1 : lines.linePos(offset).line);
  if (!Array.isArray(docs)) return [{ line: 1, message: 'not a YAML stream', source: 'yaml' }];
  const rest = new RestClient(kube.kc.impersonating(`system:serviceaccount:${namespace}:${LEARNER_SA}`));
  const diagnostics: Diagnostic[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) diagnostics.push({ line: lineAt(e.pos[0]), message: e.message, source: 'yaml' });
      continue;
    }
    const object = doc.toJS() as Record<string, unknown> | null;
    if (object === null || object === undefined) continue;
    const first = lineAt(doc.contents?.range?.[0]);
    const kind = `${String(object.apiVersion)}/${String(object.kind)}`;
    const where = KINDS[kind];
    const name = (object.metadata as { name?: unknown } | undefined)?.name;
    if (!where || typeof name !== 'string' || name === '') {
      const message = where
        ? 'metadata.name: Required value'
        : `${kind === 'undefined/undefined' ? 'apiVersion and kind are required' : `no ${kind} here: the sandbox takes Pods, Services, ConfigMaps, Secrets, Deployments, Jobs and the like`}`;
      diagnostics.push({ line: first, message, source: 'api' });
      continue;
    }
    const withNamespace = { ...object, metadata: { ...(object.metadata as object), namespace } };
    const collection = `${where.prefix}/namespaces/${encodeURIComponent(namespace)}/${where.plural}`;
    // A strict create (dry run, as the learner) names every unknown or duplicate field — server-side apply matches
    // names loosely — but stops at the first wrong type: that field is then left out and the create tried again.
    const strictCreate = (value: unknown) =>
      rest.send({
        method: 'POST',
        path: collection,
        query: { dryRun: 'All', fieldValidation: 'Strict' },
        body: JSON.stringify(value),
        timeoutMs: 10_000,
      });
    const answers = [];
    let candidate: unknown = withNamespace;
    for (let round = 0; round < 5; round++) {
      const answer = await strictCreate(candidate);
      answers.push(answer);
      const wrongType = /Go struct field \w+\.(\S+) of type/.exec(answer.status >= 300 ? answer.body : '');
      if (!wrongType) break;
      candidate = without(candidate, (wrongType[1] ?? '').split('.'));
    }
    // Server-side apply checks types with the list item named, and works for an object that already exists.
    answers.push(
      await rest.send({
        method: 'PATCH',
        path: `${collection}/${encodeURIComponent(name)}`,
        query: { dryRun: 'All', fieldValidation: 'Strict', fieldManager: 'kubectl', force: true },
        body: JSON.stringify(withNamespace),
        contentType: 'application/apply-patch+yaml',
        timeoutMs: 10_000,
      }),
    );
    const seen = new Set<string>();
    for (const answer of answers) {
      // 409 AlreadyExists from the create: the object is there, which is no problem of the file's.
      if (answer.status < 300 || answer.status === 409) continue;
      for (const { path, text: message } of problems(statusMessage(answer.body))) {
        const line = lineAt(locate(doc.contents, path).offset);
        const key = `${line}:${path.filter((s) => typeof s === 'string').join('.')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        diagnostics.push({ line, message, source: 'api' });
      }
    }
  }
  return diagnostics;
}
