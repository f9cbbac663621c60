// The check context on a real cluster: typed, bounded, time-limited reads of one namespace, plus exec for probes.
import { Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import { makeCheckContext } from '../../../exercises/context.ts';
import { ClusterUnavailableError } from '../../../exercises/errors.ts';
import {
  type CheckContext,
  type ClusterReader,
  type ConfigMap,
  ConfigMapSchema,
  type ExecResult,
  type Job,
  JobSchema,
  type Pod,
  PodSchema,
  ResourceQuotaSchema,
} from '../../../exercises/model.ts';
import { type CallOptions, mergePatch } from './apis.ts';
import type { Exec } from './exec-socket.ts';
import { createKube } from './kube.ts';
import type { KubeConfig } from './kubeconfig-file.ts';
import { KubeApiError } from './rest.ts';

/** Options for `createCheckContext`. */
export interface CheckContextOptions {
  /** The learner's text answer, for exercises that take one. */
  answer?: string;
  /** Timeout of each API call (default 5 s); a call that takes longer is "cluster unavailable". */
  requestTimeoutMs?: number;
  /** Deadline for `sleep`/`waitFor` when the context is used outside the runner (default: 2 minutes from now). */
  deadline?: number;
  /**
   * Act as this user, e.g. `system:serviceaccount:sidecar-lab-system:checker`, so checks run with the checker's
   * read-only rights rather than the server's (the kubeconfig's user must be allowed to impersonate).
   */
  impersonate?: string;
}

const MAX_STDOUT = 64 * 1024;
const MAX_STDERR = 16 * 1024;

/** A copy of `kc` whose current user impersonates `user` (for REST calls and exec WebSockets alike). */
export function impersonating(kc: KubeConfig, user: string): KubeConfig {
  return kc.impersonating(user);
}

/** The API server's message from a KubeApiError body, or the error's own message. */
function describeError(error: unknown): string {
  if (error instanceof KubeApiError) {
    const body: unknown = error.body;
    let message: string | undefined;
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: string }).message;
      } catch {
        message = body.slice(0, 300); // not JSON: a proxy's error page, say; show its start
      }
    } else if (body && typeof body === 'object') {
      message = (body as { message?: string }).message;
    }
    return `HTTP ${error.code}${message ? `: ${message}` : ''}`;
  }
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? ` (${cause.message})` : '';
    return error.name === 'TimeoutError' || error.name === 'AbortError'
      ? 'no answer in time'
      : `${error.message}${detail}`;
  }
  return String(error);
}

/** A writable that keeps the first `limit` bytes and counts the rest. */
function boundedSink(limit: number): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (size < limit) chunks.push(chunk.subarray(0, limit - size));
      size += chunk.length;
      done();
    },
  });
  const text = () => {
    const kept = Buffer.concat(chunks).toString('utf8');
    return size > limit ? `${kept}\n… (${size - limit} more bytes)` : kept;
  };
  return { stream, text };
}

/**
 * What the runtime answers when an exec meets a container that is not running, or is stopping as it is asked: containerd
 * closes its connection to the container's shim ("ttrpc: closed") while the container exits, and the process table
 * is gone ("task … not found", "process already finished"). A container that stops is the learner's Pod at work, not
 * an unavailable cluster.
 */
const CONTAINER_NOT_RUNNING =
  /container not found|not running|stopped container|deleted container|in a stopped state|no running task|ttrpc: closed|task [0-9a-f]+ not found|process already finished/i;

/** Turns the exec status frame into an exit code, or says the command could not run. */
export function exitFromStatus(status: V1Status | undefined): { exitCode: number | null; note?: string } {
  if (!status) return { exitCode: null, note: 'the exec stream closed without an exit status' };
  if (status.status === 'Success') return { exitCode: 0 };
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    return { exitCode: cause?.message ? Number(cause.message) : 1 };
  }
  const message = status.message ?? '';
  if (/executable file not found|no such file or directory/i.test(message)) return { exitCode: 127, note: message };
  if (CONTAINER_NOT_RUNNING.test(message)) {
    return { exitCode: null, note: `the container is not running (${message})` };
  }
  throw new ClusterUnavailableError(`exec failed: ${message || JSON.stringify(status)}`);
}

function clusterReader(kc: KubeConfig, namespace: string, requestTimeoutMs: number): ClusterReader {
  const { core, batch, exec: execApi } = createKube(kc);

  /** Runs one API call with a timeout; the listed HTTP codes mean "nothing there", anything else is unavailability. */
  async function call<T>(
    what: string,
    request: (options: CallOptions) => Promise<T>,
    absentOn: readonly number[] = [],
  ): Promise<T | undefined> {
    try {
      return await request({ timeoutMs: requestTimeoutMs });
    } catch (error) {
      if (error instanceof KubeApiError && absentOn.includes(error.code)) return undefined;
      throw new ClusterUnavailableError(`${what} in ${namespace}: ${describeError(error)}`, { cause: error });
    }
  }

  // Checks get the API's JSON parsed through the minimal shapes they rely on.
  const toPod = (value: unknown): Pod => PodSchema.parse(value);
  const toJob = (value: unknown): Job => JobSchema.parse(value);

  return {
    async getPod(name) {
      const pod = await call(`get pod ${name}`, (o) => core.readNamespacedPod({ name, namespace }, o), [404]);
      return pod && toPod(pod);
    },
    async listPods(options = {}) {
      const list = await call('list pods', (o) => core.listNamespacedPod({ namespace, ...options }, o));
      return (list?.items ?? []).map(toPod);
    },
    async getJob(name) {
      const job = await call(`get job ${name}`, (o) => batch.readNamespacedJob({ name, namespace }, o), [404]);
      return job && toJob(job);
    },
    async listJobs(options = {}) {
      const list = await call('list jobs', (o) => batch.listNamespacedJob({ namespace, ...options }, o));
      return (list?.items ?? []).map(toJob);
    },
    async getResourceQuota(name) {
      const quota = await call(
        `get resourcequota ${name}`,
        (o) => core.readNamespacedResourceQuota({ name, namespace }, o),
        [404],
      );
      return quota && ResourceQuotaSchema.parse(quota);
    },
    logs: (pod, container, { tailLines, limitBytes, previous, timestamps }) =>
      call(
        `logs of ${pod}/${container}`,
        (o) =>
          core.readNamespacedPodLog(
            {
              name: pod,
              namespace,
              container,
              tailLines,
              limitBytes,
              ...(previous ? { previous } : {}),
              ...(timestamps ? { timestamps } : {}),
            },
            o,
          ),
        // 400: the container has not started (or has no previous instance); 404: no such Pod. Nothing to read.
        [400, 404],
      ),
    async getConfigMap(name) {
      const map = await call(
        `get configmap ${name}`,
        (o) => core.readNamespacedConfigMap({ name, namespace }, o),
        [404],
      );
      return map && (ConfigMapSchema.parse(map) as ConfigMap);
    },
    async patchConfigMapData(name, data) {
      await call(`change configmap ${name}`, (o) =>
        core.patchNamespacedConfigMap({ name, namespace, body: { data } }, { ...mergePatch, ...o }),
      );
    },
    exec: (pod, container, argv, { timeoutMs }) =>
      execIn(execApi, { namespace, pod, container, argv, timeoutMs, connectTimeoutMs: requestTimeoutMs }),
  };
}

/** Runs one command over the exec WebSocket, with bounded output, a connect timeout and a run timeout. */
async function execIn(
  execApi: Exec,
  target: {
    namespace: string;
    pod: string;
    container: string;
    argv: string[];
    timeoutMs: number;
    connectTimeoutMs: number;
  },
): Promise<ExecResult> {
  const { namespace, pod, container, argv } = target;
  const stdout = boundedSink(MAX_STDOUT);
  const stderr = boundedSink(MAX_STDERR);
  let status: V1Status | undefined;
  const connecting = execApi.exec(namespace, pod, container, argv, stdout.stream, stderr.stream, null, false, (s) => {
    status = s;
  });
  let socket: Awaited<typeof connecting>;
  try {
    socket = await withTimeout(connecting, target.connectTimeoutMs);
  } catch (error) {
    // If the upgrade completes after we gave up, close it; if it fails, that failure is the one reported below.
    connecting.then(
      (late) => late.terminate(),
      () => undefined,
    );
    const message = describeError(error);
    // The upgrade is refused with 400 when the container does not exist or is not running, 404 without the Pod.
    if (/Unexpected server response: 40[04]/.test(message)) {
      const note = `cannot exec in ${pod}/${container}: ${message}`;
      return { stdout: '', stderr: note, exitCode: null, timedOut: false };
    }
    throw new ClusterUnavailableError(`exec in ${pod}/${container}: ${message}`, { cause: error });
  }
  const finished = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      socket.terminate();
      resolve(false);
    }, target.timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!finished) return { stdout: stdout.text(), stderr: stderr.text(), exitCode: null, timedOut: true };
  const { exitCode, note } = exitFromStatus(status);
  const err = note ? `${stderr.text()}${stderr.text() ? '\n' : ''}${note}` : stderr.text();
  return { stdout: stdout.text(), stderr: err, exitCode, timedOut: false };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('no answer in time'), { name: 'TimeoutError' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A CheckContext for `namespace` on the cluster `kc` points at. Reads are bounded (logs by lines and bytes, exec
 * output by size) and every call has a timeout; a missing object is `undefined`, while a cluster that does not
 * answer throws `ClusterUnavailableError`, which the runner reports as `error`.
 */
export function createCheckContext(kc: KubeConfig, namespace: string, opts: CheckContextOptions = {}): CheckContext {
  const config = opts.impersonate ? impersonating(kc, opts.impersonate) : kc;
  const reader = clusterReader(config, namespace, opts.requestTimeoutMs ?? 5000);
  return makeCheckContext(reader, {
    namespace,
    ...(opts.answer === undefined ? {} : { answer: opts.answer }),
    deadline: opts.deadline ?? Date.now() + 120_000,
  });
}
