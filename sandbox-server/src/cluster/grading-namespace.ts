// Throwaway namespaces for grading: create one with a read-only checker identity, apply manifests, settle, grade, delete.
import { randomBytes } from 'node:crypto';
import { ClusterUnavailableError } from '../../../exercises/errors.ts';
import type { ManifestDocument, ParsedManifests } from '../../../exercises/manifests.ts';
import { parseManifests } from '../../../exercises/manifests.ts';
import type { CheckContext, Exercise, ExerciseReport } from '../../../exercises/model.ts';
import { runExercise } from '../../../exercises/runner.ts';
import { type SettleResult, waitForSettled } from '../../../exercises/settle.ts';
import { mergePatch } from './apis.ts';
import { checkerConfigMapWrite } from './blueprint.ts';
import { createCheckContext } from './check-context.ts';
import {
  type ControllerRefusal,
  controllerRefusals,
  createLearnerFences,
  ensureImagePolicy,
  gradingBlueprintInput,
  gradingEgress,
  gradingLearnerUser,
  learnerCanCreatePods,
  podSecurityLabels,
} from './grading-blueprint.ts';
import { apiMessage, createKube, isNotFound, statusCode } from './kube.ts';
import type { KubeConfig } from './kubeconfig-file.ts';
import { ANNOTATIONS, LABELS } from './labels.ts';
import { type ApiResponse, KubeApiError, RestClient } from './rest.ts';

/** The checker's ServiceAccount in each grading namespace; checks run as it, through impersonation. */
export const GRADING_CHECKER_SA = 'sidecar-lab-checker';
/** Marks grading namespaces (value "grading"), next to the shared `managed` label the reaper looks for. */
export const PURPOSE_LABEL = 'sidecar-lab.dev/purpose';
const FIELD_MANAGER = 'sidecar-lab-grader';

/** The user name checks impersonate in a grading namespace. */
export const gradingCheckerUser = (namespace: string) => `system:serviceaccount:${namespace}:${GRADING_CHECKER_SA}`;

// ---------------------------------------------------------------------------------------------------------------
// Raw requests: apply must send the learner's object as written (the typed client drops unknown fields, which would
// hide a typo such as `volumeMount:` instead of letting the API server reject it).
// ---------------------------------------------------------------------------------------------------------------

async function rawRequest(
  kc: KubeConfig,
  method: string,
  path: string,
  options: { body?: string; contentType?: string; timeoutMs?: number } = {},
): Promise<ApiResponse> {
  const { body, contentType, timeoutMs = 10_000 } = options;
  const [pathname = path] = path.split('?');
  try {
    return await new RestClient(kc).send({
      method,
      path,
      timeoutMs,
      ...(body === undefined ? {} : { body }),
      ...(contentType ? { contentType } : {}),
    });
  } catch (error) {
    throw new ClusterUnavailableError(`${method} ${pathname}: ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
}

const statusMessage = (body: string) => {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
};

interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

/** Discovery, cached per KubeConfig and apiVersion: which resource serves a kind, and is it namespaced. */
const discoveryCache = new WeakMap<KubeConfig, Map<string, Promise<Map<string, ResourceInfo> | undefined>>>();

async function resourceFor(kc: KubeConfig, apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
  let perConfig = discoveryCache.get(kc);
  if (!perConfig) {
    perConfig = new Map();
    discoveryCache.set(kc, perConfig);
  }
  let entry = perConfig.get(apiVersion);
  if (!entry) {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    entry = rawRequest(kc, 'GET', path).then((response) => {
      if (response.status === 404) return undefined;
      if (response.status !== 200) {
        throw new ClusterUnavailableError(`discovery of ${apiVersion}: HTTP ${response.status}`);
      }
      const list = JSON.parse(response.body) as {
        resources: Array<{ name: string; kind: string; namespaced: boolean }>;
      };
      return new Map(
        list.resources
          .filter((r) => !r.name.includes('/'))
          .map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }]),
      );
    });
    perConfig.set(apiVersion, entry);
    entry.catch(() => perConfig?.delete(apiVersion)); // do not cache a failure
  }
  return (await entry)?.get(kind);
}

// ---------------------------------------------------------------------------------------------------------------
// Namespaces.
// ---------------------------------------------------------------------------------------------------------------

/** Options for `createGradingNamespace`. */
export interface GradingNamespaceOptions {
  /** Name prefix; a random suffix of 8 hex digits follows. Default "ex-". */
  prefix?: string;
  /** Exercise id, recorded on the namespace and put in its name. */
  exercise?: string;
  /** After this long the reaper may delete the namespace if grading crashed before cleaning up. Default 30 min. */
  ttlMs?: number;
  /** Extra labels. */
  labels?: Record<string, string>;
}

async function retryUntil<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new ClusterUnavailableError(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const wrapApiError = (what: string) => (error: unknown) => {
  if (error instanceof ClusterUnavailableError) throw error;
  const detail = error instanceof KubeApiError ? `HTTP ${error.code}: ${apiMessage(error)}` : String(error);
  throw new ClusterUnavailableError(`${what}: ${detail}`, { cause: error });
};

/**
 * A ServiceAccount, Role and RoleBinding in `namespace` that let checks read it and exec probes, nothing more; checks
 * impersonate it (`gradingCheckerUser`), so a grading run never acts with more than a checker may.
 */
export async function createCheckerIdentity(kc: KubeConfig, namespace: string): Promise<void> {
  const { core, rbac } = createKube(kc);
  const metadata = { namespace, name: GRADING_CHECKER_SA, labels: { [LABELS.managed]: 'true' } };
  await Promise.all([
    core
      .createNamespacedServiceAccount({ namespace, body: { metadata, automountServiceAccountToken: false } })
      .catch(wrapApiError('create the checker ServiceAccount')),
    rbac
      .createNamespacedRole({
        namespace,
        body: {
          metadata,
          // Read-only on what checks look at, plus exec for behaviour probes (get and create: 1.35 authorises both).
          rules: [
            {
              apiGroups: [''],
              resources: ['pods', 'pods/log', 'events', 'resourcequotas', 'configmaps'],
              verbs: ['get', 'list', 'watch'],
            },
            { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
            checkerConfigMapWrite,
            { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] },
          ],
        },
      })
      .catch(wrapApiError('create the checker Role')),
    rbac
      .createNamespacedRoleBinding({
        namespace,
        body: {
          metadata,
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: GRADING_CHECKER_SA },
          subjects: [{ kind: 'ServiceAccount', name: GRADING_CHECKER_SA, namespace }],
        },
      })
      .catch(wrapApiError('create the checker RoleBinding')),
  ]);
}

/**
 * Waits until the API server lets the checker read the namespace: its authorizer learns of a new Role and RoleBinding
 * a moment after they are created, and a check run in that moment would be refused (403).
 */
async function checkerReady(kc: KubeConfig, namespace: string): Promise<void> {
  const { batch } = createKube(kc.impersonating(gradingCheckerUser(namespace)));
  await retryUntil(`the checker's rights in ${namespace}`, 15_000, async () =>
    batch.listNamespacedJob({ namespace, limit: 1 }).then(
      () => true,
      (error: unknown) => {
        if (statusCode(error) === 403) return undefined;
        return wrapApiError('list jobs as the checker')(error);
      },
    ),
  );
}

/**
 * Waits for the API server to create the `default` ServiceAccount (Pods are refused until it exists), and turns off
 * its token automount, as in a sandbox: learners' Pods need no API access.
 */
async function quietDefaultServiceAccount(kc: KubeConfig, namespace: string): Promise<void> {
  const { core } = createKube(kc);
  await retryUntil(`ServiceAccount "default" in ${namespace}`, 15_000, async () =>
    core
      .patchNamespacedServiceAccount(
        { name: 'default', namespace, body: { automountServiceAccountToken: false } },
        mergePatch,
      )
      .then(
        () => true,
        (error: unknown) => {
          if (isNotFound(error)) return undefined;
          return wrapApiError('update ServiceAccount default')(error);
        },
      ),
  );
}

/**
 * Grading namespaces this process created and has not deleted (nor chosen to keep), so an interrupted
 * `npm run grade` can delete them on its way out.
 */
const live = new Map<string, KubeConfig>();

/** Deletes every namespace in `live` (for SIGINT/SIGTERM handlers); never throws. Resolves with their names. */
export async function deleteLiveGradingNamespaces(): Promise<string[]> {
  const names = [...live.keys()];
  await Promise.all([...live.entries()].map(([name, kc]) => deleteGradingNamespace(kc, name).catch(() => undefined)));
  return names;
}

/**
 * Creates a namespace for one grading run, fenced like a sandbox (Pod Security, ResourceQuota, LimitRange,
 * NetworkPolicy, the learner identity submissions are applied as; the image policy applies to every namespace
 * labelled as ours) and labelled so the reaper can clean up after a crash, with a ServiceAccount the checks
 * impersonate (read-only plus exec). Resolves with its name once the learner can create Pods in it; when any step
 * fails, the namespace is deleted again.
 */
export async function createGradingNamespace(kc: KubeConfig, options: GradingNamespaceOptions = {}): Promise<string> {
  const { core } = createKube(kc);
  const stem = `${options.prefix ?? 'ex-'}${options.exercise ? `${options.exercise}-` : ''}`.slice(0, 54);
  const name = `${stem}${randomBytes(4).toString('hex')}`;
  const expiresAt = new Date(Date.now() + (options.ttlMs ?? 30 * 60_000));
  const labels = {
    ...options.labels,
    [LABELS.managed]: 'true',
    [PURPOSE_LABEL]: 'grading',
    ...podSecurityLabels(gradingBlueprintInput(name, expiresAt)),
  };
  const annotations: Record<string, string> = {
    [ANNOTATIONS.expiresAt]: expiresAt.toISOString(),
    ...(options.exercise ? { [ANNOTATIONS.exercise]: options.exercise } : {}),
  };
  await core
    .createNamespace({ body: { metadata: { name, labels, annotations } } })
    .catch(wrapApiError(`create namespace ${name}`));
  live.set(name, kc);
  try {
    const [egress] = await Promise.all([
      gradingEgress(kc).catch(wrapApiError('look up the DNS and API server addresses')),
      ensureImagePolicy(kc).catch(wrapApiError('install the image policy')),
    ]);
    const blueprint = gradingBlueprintInput(name, expiresAt, egress);
    await Promise.all([
      createCheckerIdentity(kc, name),
      createLearnerFences(kc, blueprint).catch(wrapApiError(`create the sandbox fences in ${name}`)),
    ]);
    await Promise.all([quietDefaultServiceAccount(kc, name), checkerReady(kc, name), learnerReady(kc, name)]);
  } catch (error) {
    await deleteGradingNamespace(kc, name).catch(() => undefined); // the reaper removes it when it expires
    throw error;
  }
  return name;
}

async function learnerReady(kc: KubeConfig, namespace: string): Promise<void> {
  const ready = await learnerCanCreatePods(kc, namespace, 15_000).catch(wrapApiError('list pods as the learner'));
  if (!ready) throw new ClusterUnavailableError(`the learner's rights in ${namespace} did not happen within 15000 ms`);
}

/** Deletes a namespace (and everything in it) without waiting; a namespace already gone is fine. */
export async function deleteGradingNamespace(kc: KubeConfig, name: string): Promise<void> {
  const { core } = createKube(kc);
  await core.deleteNamespace({ name, propagationPolicy: 'Background' }).catch((error: unknown) => {
    if (isNotFound(error)) return;
    return wrapApiError(`delete namespace ${name}`)(error);
  });
  live.delete(name);
}

// ---------------------------------------------------------------------------------------------------------------
// Applying manifests.
// ---------------------------------------------------------------------------------------------------------------

/** What happened to one document. */
export interface ApplyOutcome {
  file: string;
  line: number;
  kind: string;
  name: string;
  /** Undefined when the API server accepted it; else its refusal, e.g. "Pod "x" is invalid: …". */
  error?: string;
  /** Set when the object named another namespace, which was overridden. */
  warning?: string;
}

/**
 * Applies each document (from `parseManifests`) into `namespace`, in order, like `kubectl apply -n NS`: created,
 * or server-side applied when it already exists. Unknown fields are refused (strict validation), cluster-scoped kinds
 * are refused, and another namespace in the manifest is overridden with a warning. A refusal is reported per
 * document; a cluster that does not answer throws.
 */
/** The annotation in which `kubectl apply` records the object as the user wrote it. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The object with the annotation `kubectl apply` adds: the document as written, before the API server defaults
 * anything (it copies limits into missing requests, say). Checks that judge what the learner wrote read it, so a
 * submission is judged as the same file applied in a sandbox would be. One the submission brings is overwritten.
 */
export function asKubectlApplies<T extends { metadata: object }>(
  object: T,
): T & { metadata: { annotations: Record<string, string> } } {
  const { [LAST_APPLIED]: _theirs, ...annotations } =
    (object.metadata as { annotations?: Record<string, string> }).annotations ?? {};
  const metadata: Record<string, unknown> = { ...object.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const written = JSON.stringify({ ...object, metadata });
  return { ...object, metadata: { ...metadata, annotations: { ...annotations, [LAST_APPLIED]: written } } };
}

export async function applyManifests(
  kc: KubeConfig,
  namespace: string,
  docs: readonly ManifestDocument[],
): Promise<ApplyOutcome[]> {
  const outcomes: ApplyOutcome[] = [];
  for (const { object, file, line } of docs) {
    const outcome: ApplyOutcome = { file, line, kind: object.kind, name: object.metadata.name };
    outcomes.push(outcome);
    const info = await resourceFor(kc, object.apiVersion, object.kind);
    if (!info) {
      outcome.error = `the cluster does not know kind ${object.kind} in ${object.apiVersion}`;
      continue;
    }
    if (!info.namespaced) {
      outcome.error = `${object.kind} is cluster-scoped; only namespaced objects can be applied here`;
      continue;
    }
    if (object.metadata.namespace && object.metadata.namespace !== namespace) {
      outcome.warning = `metadata.namespace "${object.metadata.namespace}" was replaced by "${namespace}"`;
    }
    const placed = { ...object, metadata: { ...object.metadata, namespace } };
    const body = JSON.stringify(asKubectlApplies(placed));
    const base = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
    const collection = `${base}/namespaces/${namespace}/${info.plural}`;
    const what = `apply ${object.kind} ${object.metadata.name}`;
    // Create first: a typo is then refused as "unknown field" (400/422). Server-side apply answers a field it does
    // not know with a 500, so it is only used to update an object that already exists.
    let response = await rawRequest(kc, 'POST', `${collection}?fieldManager=${FIELD_MANAGER}&fieldValidation=Strict`, {
      body,
      contentType: 'application/json',
    });
    if (response.status === 409) {
      const query = `fieldManager=${FIELD_MANAGER}&force=true&fieldValidation=Strict`;
      response = await rawRequest(kc, 'PATCH', `${collection}/${encodeURIComponent(object.metadata.name)}?${query}`, {
        body,
        contentType: 'application/apply-patch+yaml',
      });
      if (response.status === 500 && /failed to create typed patch object/.test(response.body)) {
        outcome.error = statusMessage(response.body);
        continue;
      }
    }
    if (response.status >= 500 || response.status === 429) {
      throw new ClusterUnavailableError(`${what}: HTTP ${response.status}: ${statusMessage(response.body)}`);
    }
    if (response.status >= 300) outcome.error = statusMessage(response.body);
  }
  return outcomes;
}

// ---------------------------------------------------------------------------------------------------------------
// Grading in a fresh namespace: what `npm run grade -- --apply` and the cluster tests do.
// ---------------------------------------------------------------------------------------------------------------

/** The exercise's setup manifests (e.g. the Pod a debugging exercise starts from), to apply when it starts. */
export function setupDocuments(exercise: Exercise): ManifestDocument[] {
  return exercise.setup.flatMap((f) => parseManifests(f.content, `exercises/${exercise.id}/${f.path}`).objects);
}

/** Options for `gradeInFreshNamespace`. */
export interface GradeOptions {
  /** The learner's answer (`--answer`, the answer field); overrides an answer file's text. */
  answer?: string;
  /**
   * Trusted code only (tests, the mutation tester), never anything from a submission: finds the answer once the
   * namespace has settled, e.g. an exercise's `referenceAnswer`. Used when `answer` is not given.
   */
  findAnswer?: (ctx: CheckContext) => Promise<string | undefined>;
  /** Namespace name prefix (default "ex-"). */
  prefix?: string;
  /** Bound on waiting for objects to settle; default: the exercise's settleTimeoutMs. */
  settleTimeoutMs?: number;
  /** Keep the namespace afterwards (for debugging); it is deleted by default. */
  keepNamespace?: boolean;
  /** Progress lines ("applied pod/x", "settled in 3.2 s"). */
  onProgress?: (line: string) => void;
}

/** Everything one grading run produced. */
export interface GradeRun {
  namespace: string;
  /** The answer the checks were given (from the options or an answer file), if any. */
  answer?: string;
  /** Per document; a submission's document the learner may not create is refused here with the API server's word. */
  applied: ApplyOutcome[];
  /** What controllers were refused after apply (e.g. Pods of a Deployment beyond the quota), with the message. */
  contained: ControllerRefusal[];
  settle: SettleResult;
  report: ExerciseReport;
}

/**
 * Waits (up to 10 s) until the API server has taken up the ResourceQuotas among `setup`: a quota without a status yet
 * does not count a Pod admitted in that moment, and an exercise that checks a budget would see it uncounted.
 */
async function quotasCounting(kc: KubeConfig, namespace: string, setup: readonly ManifestDocument[]): Promise<void> {
  const { core } = createKube(kc);
  const names = setup.filter((d) => d.object.kind === 'ResourceQuota').map((d) => String(d.object.metadata?.name));
  for (const name of names) {
    for (let tries = 0; tries < 40; tries++) {
      const quota = await core.readNamespacedResourceQuota({ namespace, name }).catch(() => undefined);
      if (quota?.status?.hard && Object.keys(quota.status.hard).length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Creates a fenced namespace, applies the exercise's setup manifests (trusted, as the admin) and then `manifests`
 * (untrusted, as the namespace's learner), waits for them to settle (bounded), runs the checks as the namespace's
 * checker identity, and deletes the namespace, also when anything fails.
 */
export async function gradeInFreshNamespace(
  kc: KubeConfig,
  exercise: Exercise,
  manifests: ParsedManifests,
  options: GradeOptions = {},
): Promise<GradeRun> {
  const progress = options.onProgress ?? (() => {});
  const namespace = await createGradingNamespace(kc, {
    exercise: exercise.id,
    ...(options.prefix ? { prefix: options.prefix } : {}),
  });
  if (options.keepNamespace) live.delete(namespace); // kept on purpose, even when interrupted
  progress(`namespace ${namespace} created`);
  try {
    const setup = setupDocuments(exercise);
    const setUp = await applyManifests(kc, namespace, setup);
    await quotasCounting(kc, namespace, setup);
    const applied = [
      ...setUp,
      ...(await applyManifests(kc.impersonating(gradingLearnerUser(namespace)), namespace, manifests.objects)),
    ];
    for (const a of applied) {
      const note = a.error ? `: ${a.error}` : a.warning ? ` (${a.warning})` : '';
      progress(`${a.error ? 'refused' : 'applied'} ${a.kind.toLowerCase()}/${a.name} (${a.file}:${a.line})${note}`);
    }
    const ctx = createCheckContext(kc, namespace, { impersonate: gradingCheckerUser(namespace) });
    const settle = await waitForSettled(ctx, { timeoutMs: options.settleTimeoutMs ?? exercise.settleTimeoutMs });
    progress(
      settle.settled
        ? `settled in ${settle.waitedMs} ms`
        : `still pending after ${settle.waitedMs} ms: ${settle.pending.join('; ')}`,
    );
    // An answer file holds plain text the learner typed (see AnswerFileSchema); nothing in it is evaluated.
    const answer = options.answer ?? (await options.findAnswer?.(ctx)) ?? manifests.answers[0]?.answer;
    const graded = createCheckContext(kc, namespace, {
      impersonate: gradingCheckerUser(namespace),
      ...(answer === undefined ? {} : { answer }),
    });
    const report = await runExercise(exercise, graded);
    const contained = await controllerRefusals(kc, namespace).catch(wrapApiError('list FailedCreate events'));
    for (const c of contained) progress(`contained ${c.object} (${c.count}×): ${c.message}`);
    return { namespace, applied, contained, settle, report, ...(answer === undefined ? {} : { answer }) };
  } finally {
    if (!options.keepNamespace) {
      // A failed clean-up must not hide the grading error; the reaper removes the namespace when it expires.
      await deleteGradingNamespace(kc, namespace).catch((error: unknown) =>
        progress(`could not delete namespace ${namespace}: ${error instanceof Error ? error.message : error}`),
      );
    }
  }
}
