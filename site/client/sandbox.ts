// The learner's sandbox as the page sees it: create or reattach, wait until ready, files, checks and live changes.

import type { CheckResult, ExerciseReport } from '../../exercises/model.ts';
import type { CheckStreamLine, SandboxView } from '../../sandbox-server/src/protocol/schemas.ts';
import { ApiRequestError, call, callIdempotent, callLines, describeError, segment, server } from './api.ts';
import { emit } from './bus.ts';
import { readItem, writeItem } from './storage.ts';

/** Where the sandbox id is kept, so a reload (or the next lesson) reattaches instead of creating another. */
const ID_KEY = 'sidecar-lab:sandbox-id';
/** A cold sandbox is ready in seconds; past this something is wrong and the learner should hear about it. */
const READY_TIMEOUT_MS = 120_000;

export type SandboxPhase = 'idle' | 'starting' | 'ready' | 'failed' | 'ended';

export interface SandboxState {
  phase: SandboxPhase;
  sandbox?: SandboxView;
  /** For the learner: why it failed or ended, or what is happening. */
  message?: string;
}

let state: SandboxState = { phase: 'idle' };
let starting: Promise<SandboxView> | undefined;

function setState(next: SandboxState): void {
  state = next;
  emit('sidecar-lab:sandbox', next);
}

export function sandboxState(): SandboxState {
  return state;
}

export function rememberedSandboxId(): string | undefined {
  return readItem(ID_KEY);
}

/** Routes under /api/sandboxes/:id. */
const sandboxRoute = server.api.sandboxes[':id'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The remembered sandbox if it still exists and is usable; forgets it otherwise. */
async function reattach(): Promise<SandboxView | undefined> {
  const id = rememberedSandboxId();
  if (!id) return undefined;
  try {
    const view = await callIdempotent(() => sandboxRoute.$get({ param: { id: segment(id) } }));
    if (view.status === 'ready' || view.status === 'provisioning') return view;
  } catch (error) {
    // 404: it expired or belongs to an older session; anything else is a real problem worth surfacing.
    if (!(error instanceof ApiRequestError && error.status === 404)) throw error;
  }
  writeItem(ID_KEY, undefined);
  return undefined;
}

/** Polls until the sandbox is ready; provisioning usually takes well under three seconds. */
async function untilReady(initial: SandboxView): Promise<SandboxView> {
  let view = initial;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let wait = 250;
  while (view.status === 'provisioning') {
    if (Date.now() > deadline) throw new Error('The sandbox is taking too long to start. Try again in a minute.');
    await sleep(wait);
    wait = Math.min(2000, wait * 1.5);
    const id = segment(view.id);
    view = await callIdempotent(() => sandboxRoute.$get({ param: { id } }));
  }
  if (view.status !== 'ready') throw new Error(`The sandbox could not start (it is ${view.status}). Start a new one.`);
  return view;
}

async function start(): Promise<SandboxView> {
  setState({ phase: 'starting', message: 'Starting your sandbox…' });
  try {
    const existing = await reattach();
    const view = existing ?? (await call(() => server.api.sandboxes.$post({ json: {} })));
    writeItem(ID_KEY, view.id);
    const ready = await untilReady(view);
    setState({ phase: 'ready', sandbox: ready });
    return ready;
  } catch (error) {
    setState({ phase: 'failed', message: describeError(error) });
    throw error;
  }
}

/** The learner's ready sandbox: reattaches the remembered one, or creates one. Concurrent callers share one start. */
export function ensureSandbox(): Promise<SandboxView> {
  if (state.phase === 'ready' && state.sandbox) return Promise.resolve(state.sandbox);
  starting ??= start().finally(() => {
    starting = undefined;
  });
  return starting;
}

/**
 * Asks the server whether the current sandbox is still there (after a dropped terminal, say): `ready`, `gone` (it is
 * then marked ended) or `unknown` (the server did not answer, or it is still provisioning: ask again later).
 */
export async function confirmSandbox(): Promise<'ready' | 'gone' | 'unknown'> {
  const id = state.sandbox?.id;
  if (!id) return 'gone';
  try {
    const view = await call(() => sandboxRoute.$get({ param: { id: segment(id) } }));
    if (view.status === 'ready') return 'ready';
    if (view.status === 'provisioning') return 'unknown';
    markEnded(`Your sandbox has ${view.status === 'expired' ? 'expired' : 'ended'}. Start a new one to continue.`);
    return 'gone';
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 404) {
      markEnded('Your sandbox has ended. Start a new one to continue.');
      return 'gone';
    }
    // The server itself is unreachable (restarting, say): keep the sandbox and let the caller retry.
    console.warn('sidecar-lab: could not confirm the sandbox', error);
    return 'unknown';
  }
}

function markEnded(message: string): void {
  writeItem(ID_KEY, undefined);
  setState({ phase: 'ended', message });
}

/** Deletes the sandbox (the learner pressed "End sandbox"). */
export async function endSandbox(): Promise<void> {
  const id = state.sandbox?.id ?? rememberedSandboxId();
  if (id) await call(() => sandboxRoute.$delete({ param: { id: segment(id) } }));
  markEnded('Sandbox ended. Start a new one whenever you like.');
}

function readySandbox(): SandboxView {
  if (state.phase !== 'ready' || !state.sandbox) throw new Error('Start your sandbox first.');
  return state.sandbox;
}

/** Writes a file into the toolbox's home folder (/home/learner/<path>). */
export async function writeFile(path: string, content: string): Promise<void> {
  const sandbox = await ensureSandbox();
  const id = segment(sandbox.id);
  await callIdempotent(() => sandboxRoute.files.$post({ param: { id }, json: { path, content } }));
}

/** Applies an exercise's setup manifests (objects the exercise expects to find) in the sandbox. */
export async function setUpExercise(exercise: string): Promise<void> {
  const sandbox = await ensureSandbox();
  const param = { id: segment(sandbox.id), exerciseId: segment(exercise) };
  await callIdempotent(() => sandboxRoute.exercises[':exerciseId'].setup.$post({ param }));
}

/**
 * Runs every check of an exercise against the learner's namespace, handing each check's verdict to `onCheck` as the
 * server finishes it (in the exercise's order), and returns the whole report. `trigger` says whether the learner
 * pressed Check (an attempt) or the page re-checks by itself (not one).
 */
export async function runChecks(
  exercise: string,
  trigger: 'manual' | 'auto',
  answer?: string,
  onCheck: (result: CheckResult) => void = () => undefined,
): Promise<ExerciseReport> {
  const sandbox = readySandbox();
  const param = { id: segment(sandbox.id), exerciseId: segment(exercise) };
  const json = answer === undefined ? { trigger } : { answer, trigger };
  let report: ExerciseReport | undefined;
  await callLines(
    () => sandboxRoute.checks[':exerciseId'].stream.$post({ param, json }),
    (line) => {
      const told = line as CheckStreamLine<CheckResult, ExerciseReport>;
      if ('check' in told) onCheck(told.check);
      else if ('report' in told) report = told.report;
      else throw new ApiRequestError(500, told.error.code, told.error.message);
    },
  );
  if (!report) throw new ApiRequestError(0, 'network', 'The checks broke off before their verdict; try again.');
  return report;
}

// ---- Live changes: one EventSource for the whole page, shared by every <Check> that listens. ----

const changeListeners = new Set<() => void>();
let source: EventSource | undefined;
let sourceFor: string | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

function syncChangeStream(): void {
  const id = state.phase === 'ready' ? state.sandbox?.id : undefined;
  const want = changeListeners.size > 0 && id !== undefined;
  if (source && (!want || sourceFor !== id)) {
    source.close();
    source = undefined;
    sourceFor = undefined;
  }
  if (!want || source || retryTimer) return;
  const es = new EventSource(sandboxRoute.changes.$path({ param: { id: segment(id) } }), { withCredentials: true });
  es.addEventListener('change', () => {
    for (const listener of changeListeners) listener();
  });
  es.addEventListener('error', () => {
    // EventSource retries network errors itself; a refused stream (e.g. the sandbox ended) closes for good.
    if (es.readyState !== EventSource.CLOSED) return;
    if (source === es) source = undefined;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      syncChangeStream();
    }, 5000);
  });
  source = es;
  sourceFor = id;
}

/** Calls `listener` whenever objects in the learner's namespace change; returns the unsubscribe function. */
export function onNamespaceChange(listener: () => void): () => void {
  changeListeners.add(listener);
  syncChangeStream();
  return () => {
    changeListeners.delete(listener);
    syncChangeStream();
  };
}

window.addEventListener('sidecar-lab:sandbox', () => syncChangeStream());

// ---- Time left: the expiry moves with the learner's activity, so the page re-reads it and can ask for more. ----

/** Re-reads the ready sandbox (its expiry moved if the learner was active); marks it ended when it is gone. */
export async function refreshSandbox(): Promise<SandboxView | undefined> {
  const id = state.phase === 'ready' ? state.sandbox?.id : undefined;
  if (!id) return undefined;
  let view: SandboxView;
  try {
    view = await call(() => sandboxRoute.$get({ param: { id: segment(id) } }));
  } catch (error) {
    if (!(error instanceof ApiRequestError && error.status === 404)) throw error;
    markEnded('Your sandbox has ended. Start a new one to continue.');
    return undefined;
  }
  if (view.status === 'expired' || view.status === 'deleting') {
    markEnded('Your sandbox has expired. Start a new one to continue.');
    return undefined;
  }
  if (state.phase === 'ready' && state.sandbox?.id === id) setState({ phase: 'ready', sandbox: view });
  return view;
}

/** Asks for `minutes` more (the learner pressed "Extend"); the server stops at the maximum lifetime or refuses. */
export async function extendSandbox(minutes: number): Promise<SandboxView> {
  const sandbox = readySandbox();
  const view = await call(() => sandboxRoute.extend.$post({ param: { id: segment(sandbox.id) }, json: { minutes } }));
  if (state.phase === 'ready' && state.sandbox?.id === sandbox.id) setState({ phase: 'ready', sandbox: view });
  return view;
}

/** Saves the learner's files and objects, then ends the sandbox ("Save and stop"); the next sandbox restores them. */
export async function saveAndStop(): Promise<void> {
  const sandbox = readySandbox();
  await call(() =>
    server.api.sandboxes[':id'].save.$post({ param: { id: segment(sandbox.id) }, json: { stop: true } }),
  );
  markEnded('Your work is saved and the sandbox stopped. Start a sandbox to get it back.');
}
