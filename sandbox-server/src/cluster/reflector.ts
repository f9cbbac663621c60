// Keeps an up-to-date picture of one collection (a namespace's Pods, say) the way client-go's reflector does: list,
// then watch from the list's resourceVersion, resume from the last version seen, list again on 410 Gone, and tell the
// caller only about real changes — never about the replayed ADDED events a fresh, version-less watch would send.
import { KubeApiError, type RestClient } from './rest.ts';
import { type WatchEvent, watch } from './watch.ts';

/** The parts of an object's metadata a reflector keys on. */
interface ObjectMeta {
  uid?: string;
  name?: string;
  resourceVersion?: string;
}

interface ListAnswer {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: Array<{ metadata?: ObjectMeta }>;
}

export interface ReflectorOptions {
  /** How long each watch request lasts before the API server ends it (a new one resumes where it stopped). */
  watchTimeoutSeconds?: number;
  /**
   * A stream with no event and no bookmark for this long is taken as stalled and replaced. The API server sends a
   * bookmark about once a minute on a watch that asked for them, so the default leaves room for two.
   */
  stallMs?: number;
  /** Items per list page (`limit`/`continue`), so a large collection never arrives as one answer. */
  pageSize?: number;
  /** Wait before trying again after a failed list or watch (the cluster may be restarting). */
  retryMs?: number;
  /** Bound on each list request. */
  listTimeoutMs?: number;
  /**
   * Called with every object after each complete list (the first and any after 410 Gone), before the differences are
   * reported: for callers that keep the objects themselves (the Pod picture), not just hear that something changed.
   */
  onList?: (items: unknown[]) => void;
  /** Called with each watched object that was really added, modified or deleted (its last state for DELETED). */
  onObject?: (type: ObservedChange['type'], object: unknown) => void;
}

/** A change the reflector saw: what kind of event, and which object. */
export interface ObservedChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  name: string;
}

const keyOf = (meta: ObjectMeta | undefined) => meta?.uid ?? meta?.name ?? '';

/** Whether `error` (a thrown error or a watch ERROR event's Status) says the version we asked for is gone. */
export function isGone(error: unknown): boolean {
  if (error instanceof KubeApiError) return error.code === 410;
  const status = error as { code?: unknown; reason?: unknown } | undefined;
  return status?.code === 410 || status?.reason === 'Expired' || status?.reason === 'Gone';
}

/**
 * Watches `path` (a collection URL such as `/api/v1/namespaces/x/pods`) and calls `onChange` for every object that
 * was really added, modified or deleted after the first list. `stop()` ends it; nothing runs after that.
 */
export class Reflector {
  readonly #rest: RestClient;
  readonly #path: string;
  readonly #onChange: (change: ObservedChange) => void;
  readonly #options: Required<Omit<ReflectorOptions, 'onList' | 'onObject'>>;
  readonly #onList: ReflectorOptions['onList'];
  readonly #onObject: ReflectorOptions['onObject'];
  /** uid → resourceVersion of every object we know of. */
  readonly #known = new Map<string, { name: string; version: string }>();
  #resourceVersion: string | undefined;
  #synced = false;
  #stopped = false;
  #paused = false;
  #current: AbortController | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  /** Counts of what happened, for tests and logs: lists, watches started, restarts after a stall, 410s. */
  readonly stats = { lists: 0, watches: 0, stalls: 0, gone: 0 };

  constructor(
    rest: RestClient,
    path: string,
    onChange: (change: ObservedChange) => void,
    options: ReflectorOptions = {},
  ) {
    this.#rest = rest;
    this.#path = path;
    this.#onChange = onChange;
    this.#onList = options.onList;
    this.#onObject = options.onObject;
    this.#options = {
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
      stallMs: options.stallMs ?? 150_000,
      pageSize: options.pageSize ?? 500,
      retryMs: options.retryMs ?? 2_000,
      listTimeoutMs: options.listTimeoutMs ?? 15_000,
    };
  }

  /** The version the next watch resumes from. */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  start(): void {
    void this.#list();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearTimeout(this.#stallTimer);
    this.#current?.abort();
  }

  /**
   * Ends the current stream and holds: nothing is watched until `resumeFrom`. With `resumeFrom` this replays what a
   * server away for a long time goes through (a version the API server no longer keeps gives 410 Gone); tests use it.
   */
  pause(): void {
    this.#paused = true;
    clearTimeout(this.#retry);
    this.#current?.abort();
  }

  /** Watches again from `resourceVersion` after `pause`. */
  resumeFrom(resourceVersion: string): void {
    this.#paused = false;
    this.#resourceVersion = resourceVersion;
    if (!this.#current) this.#watch();
  }

  /** Lists every page; on the first list it only learns, on later ones (after 410) it reports the differences. */
  async #list(): Promise<void> {
    if (this.#stopped) return;
    try {
      const seen = new Map<string, { name: string; version: string }>();
      const items: unknown[] = [];
      let next: string | undefined;
      let version: string | undefined;
      do {
        const page = await this.#rest.json<ListAnswer>({
          path: this.#path,
          query: { limit: this.#options.pageSize, continue: next },
          timeoutMs: this.#options.listTimeoutMs,
        });
        for (const item of page.items ?? []) {
          items.push(item);
          seen.set(keyOf(item.metadata), {
            name: item.metadata?.name ?? '',
            version: item.metadata?.resourceVersion ?? '',
          });
        }
        next = page.metadata?.continue || undefined;
        version = page.metadata?.resourceVersion;
      } while (next && !this.#stopped);
      this.stats.lists++;
      if (this.#stopped) return;
      this.#onList?.(items);
      if (this.#synced) this.#reportDifferences(seen);
      this.#known.clear();
      for (const [key, value] of seen) this.#known.set(key, value);
      this.#resourceVersion = version;
      this.#synced = true;
      this.#watch();
    } catch {
      this.#later(() => void this.#list());
    }
  }

  #reportDifferences(now: Map<string, { name: string; version: string }>): void {
    for (const [key, value] of now) {
      const before = this.#known.get(key);
      if (!before) this.#onChange({ type: 'ADDED', name: value.name });
      else if (before.version !== value.version) this.#onChange({ type: 'MODIFIED', name: value.name });
    }
    for (const [key, value] of this.#known) if (!now.has(key)) this.#onChange({ type: 'DELETED', name: value.name });
  }

  #watch(): void {
    if (this.#stopped || this.#paused) return;
    const controller = new AbortController();
    this.#current = controller;
    let gone = false;
    this.stats.watches++;
    this.#armStallTimer(controller);
    const onEvent = (event: WatchEvent) => {
      this.#armStallTimer(controller);
      if (event.type === 'ERROR') {
        gone = isGone(event.object);
        controller.abort();
        return;
      }
      const meta = (event.object as { metadata?: ObjectMeta } | undefined)?.metadata;
      if (meta?.resourceVersion) this.#resourceVersion = meta.resourceVersion;
      if (event.type === 'BOOKMARK') return;
      this.#apply(event.type, meta, event.object);
    };
    const onDone = (error?: unknown) => {
      if (this.#current === controller) this.#current = undefined;
      clearTimeout(this.#stallTimer);
      if (this.#stopped || this.#paused) return;
      if (gone || isGone(error)) {
        this.stats.gone++;
        void this.#list();
      } else if (error && !controller.signal.aborted) {
        this.#later(() => this.#watch());
      } else {
        this.#watch(); // the API server ended it on time, or we replaced a stalled one: resume where we were
      }
    };
    watch(this.#rest, this.#path, controller.signal, onEvent, onDone, {
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.#options.watchTimeoutSeconds,
    }).catch((error: unknown) => {
      clearTimeout(this.#stallTimer);
      if (this.#current === controller) this.#current = undefined;
      if (this.#stopped || this.#paused) return;
      if (isGone(error)) {
        this.stats.gone++;
        void this.#list();
      } else this.#later(() => this.#watch());
    });
  }

  #apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', meta: ObjectMeta | undefined, object: unknown): void {
    const key = keyOf(meta);
    const name = meta?.name ?? '';
    const version = meta?.resourceVersion ?? '';
    const before = this.#known.get(key);
    if (type === 'DELETED') {
      if (!before) return;
      this.#known.delete(key);
    } else {
      if (before?.version === version) return; // a replay of what we already have
      this.#known.set(key, { name, version });
    }
    this.#onObject?.(type, object);
    this.#onChange({ type, name });
  }

  #armStallTimer(controller: AbortController): void {
    clearTimeout(this.#stallTimer);
    this.#stallTimer = setTimeout(() => {
      this.stats.stalls++;
      controller.abort();
    }, this.#options.stallMs);
    this.#stallTimer.unref();
  }

  /** Tries again after a pause: a refused or unreachable API server is usually restarting. */
  #later(again: () => void): void {
    if (this.#stopped) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(again, this.#options.retryMs);
    this.#retry.unref();
  }
}
