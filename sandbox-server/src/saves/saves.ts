// Save and restore: a learner's home folder and the objects they made, kept per learner in the database and
// restored into their next sandbox.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import { execCollect } from '../cluster/exec.ts';
import { applyManifests } from '../cluster/grading-namespace.ts';
import type { Kube } from '../cluster/kube.ts';
import type { KubeConfig } from '../cluster/kubeconfig-file.ts';
import { LEARNER_SA, TOOLBOX_CONTAINER, TOOLBOX_POD } from '../cluster/labels.ts';
import { RestClient } from '../cluster/rest.ts';
import type { Sandbox } from '../sandboxes/sandboxes.ts';
import type { Repository, SaveRecord } from '../store/repository.ts';
import { cleanManifest, inApplyOrder, SAVED_KINDS, type SavedManifest, savedManifest } from './manifests.ts';
import { tarGz } from './tar.ts';

export interface SaveSettings {
  /** Largest save kept (home folder compressed plus manifests), in bytes. */
  maxBytes: number;
  retentionDays: number;
  /** Signs each save, so one changed in the database is refused. */
  secret: string;
}

export class SaveError extends Error {
  override name = 'SaveError';
  readonly code: 'too_large' | 'tampered' | 'not_found' | 'failed';
  constructor(code: SaveError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** What a save holds, for messages and the API. */
export interface SaveSummary {
  createdAt: string;
  reason: string;
  size: number;
  objects: string[];
}

const HOME = '/home/learner';
const learnerUser = (namespace: string) => `system:serviceaccount:${namespace}:${LEARNER_SA}`;

export class Saves {
  readonly kc: KubeConfig;
  readonly kube: Kube;
  readonly repo: Repository;
  readonly settings: SaveSettings;
  readonly log: Logger;

  constructor(kc: KubeConfig, kube: Kube, repo: Repository, settings: SaveSettings, log: Logger) {
    this.kc = kc;
    this.kube = kube;
    this.repo = repo;
    this.settings = settings;
    this.log = log;
  }

  /** Saves the learner's work in `sandbox` (replacing their previous save); a save over the limit is refused. */
  async save(sandbox: Sandbox, reason: string, now = new Date()): Promise<SaveSummary> {
    if (!sandbox.owner) throw new SaveError('not_found', 'a sandbox nobody claimed has nothing to save');
    const manifests = await this.#manifests(sandbox.namespace);
    const manifestsJson = JSON.stringify(manifests);
    const files = await this.#files(sandbox.namespace, this.settings.maxBytes - Buffer.byteLength(manifestsJson));
    const size = files.length + Buffer.byteLength(manifestsJson);
    const record: Omit<SaveRecord, 'mac'> = {
      owner: sandbox.owner,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.settings.retentionDays * 86_400_000).toISOString(),
      reason,
      files,
      manifests: manifestsJson,
      size,
    };
    await this.repo.putSave({ ...record, mac: this.#mac(record) });
    this.log.info({ sandbox: sandbox.id, reason, size, objects: manifests.length }, 'saved the learner’s work');
    return summarize(record, manifests);
  }

  /** The learner's save, checked; undefined when there is none. */
  async saved(owner: string): Promise<{ record: SaveRecord; manifests: SavedManifest[] } | undefined> {
    const record = await this.repo.save(owner);
    if (!record) return undefined;
    const { mac, restoredInto: _into, ...rest } = record;
    const expected = Buffer.from(this.#mac(rest), 'hex');
    const given = Buffer.from(mac, 'hex');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new SaveError('tampered', 'your saved work was changed after it was saved, so it was not restored');
    }
    if (record.size > this.settings.maxBytes) {
      throw new SaveError('too_large', `your saved work is larger than the limit (${kib(this.settings.maxBytes)})`);
    }
    const parsed = savedManifest.array().safeParse(JSON.parse(record.manifests));
    if (!parsed.success) throw new SaveError('tampered', 'your saved work holds objects that cannot be restored');
    return { record, manifests: parsed.data };
  }

  /**
   * Restores the learner's save into a fresh sandbox, once: files back into the home folder, objects applied with
   * the learner's own rights in dependency order, and a line in the terminal saying what came back. Everything is
   * checked before the sandbox is touched. Returns undefined when there is nothing (new) to restore.
   */
  async restoreInto(sandbox: Sandbox): Promise<{ restored: boolean; message: string } | undefined> {
    let saved: Awaited<ReturnType<Saves['saved']>>;
    try {
      saved = await this.saved(sandbox.owner);
    } catch (error) {
      if (!(error instanceof SaveError)) throw error;
      this.log.warn({ sandbox: sandbox.id, err: error }, 'refused a save');
      return { restored: false, message: error.message };
    }
    if (!saved || saved.record.restoredInto) return undefined;
    const { record, manifests } = saved;
    const untar = await execCollect(
      this.kube,
      sandbox.namespace,
      TOOLBOX_POD,
      TOOLBOX_CONTAINER,
      ['sh', '-c', `base64 -d | tar xzf - -C ${HOME} --no-overwrite-dir`],
      60_000,
      record.files.toString('base64'),
    );
    if (untar.exitCode !== 0) throw new SaveError('failed', `could not restore your files: ${untar.stderr.trim()}`);
    const docs = inApplyOrder(manifests).map((object, i) => ({ object: object as never, file: 'save', line: i + 1 }));
    const outcomes = await applyManifests(
      this.kc.impersonating(learnerUser(sandbox.namespace)),
      sandbox.namespace,
      docs,
    );
    const failed = outcomes.filter((o) => o.error);
    await this.repo.markSaveRestored(sandbox.owner, sandbox.id);
    const objects = outcomes.filter((o) => !o.error).map((o) => `${o.kind}/${o.name}`);
    const message =
      `Restored your work saved at ${record.createdAt}: your home folder` +
      (objects.length ? ` and ${objects.join(', ')}` : '') +
      (failed.length ? `; not restored: ${failed.map((o) => `${o.kind}/${o.name} (${o.error})`).join(', ')}` : '') +
      '.';
    await this.#tellTerminal(sandbox.namespace, message);
    this.log.info({ sandbox: sandbox.id, objects: objects.length, failed: failed.length }, 'restored a save');
    return { restored: true, message };
  }

  /** The learner's save as a .tar.gz: `manifests.yaml` and `home.tar.gz`. */
  async download(owner: string): Promise<Buffer | undefined> {
    const saved = await this.saved(owner);
    if (!saved) return undefined;
    const yaml = inApplyOrder(saved.manifests)
      .map((m) => stringify(m))
      .join('---\n');
    return tarGz(
      [
        { name: 'manifests.yaml', content: Buffer.from(yaml) },
        { name: 'home.tar.gz', content: saved.record.files },
      ],
      new Date(saved.record.createdAt),
    );
  }

  async summary(owner: string): Promise<SaveSummary | undefined> {
    const saved = await this.saved(owner);
    return saved ? summarize(saved.record, saved.manifests) : undefined;
  }

  async delete(owner: string): Promise<boolean> {
    return this.repo.deleteSave(owner);
  }

  async #manifests(namespace: string): Promise<SavedManifest[]> {
    const rest = new RestClient(this.kc);
    const lists = await Promise.all(
      SAVED_KINDS.map(async (kind) => {
        const base = kind.apiVersion.includes('/') ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
        // biome-ignore lint/suspicious/noExplicitAny: list items are walked by cleanManifest.
        const list = await rest.json<{ items: any[] }>({
          method: 'GET',
          path: `${base}/namespaces/${namespace}/${kind.plural}`,
        });
        return list.items.flatMap((item) => cleanManifest(kind, item) ?? []);
      }),
    );
    return lists.flat();
  }

  /** The home folder as a .tar.gz, refused when larger than `limit` bytes (measured in the toolbox, never sent). */
  async #files(namespace: string, limit: number): Promise<Buffer> {
    const archive = '/tmp/.sidecar-lab-save.tgz';
    const script =
      // The home folder's entries, not the folder itself: the learner may not change its owner's mode and times.
      // Exit 1 is GNU tar's "a file changed while it was read" (the shell's history, say): the archive is still good.
      `cd ${HOME} && find . -mindepth 1 -maxdepth 1 ! -name .cache -print0 | ` +
      `tar czf ${archive} --exclude=./.kube/cache --null -T -; [ $? -le 1 ] || exit 2; ` +
      `size=$(wc -c < ${archive}) && if [ "$size" -gt "$1" ]; then rm -f ${archive}; echo "$size" >&2; exit 9; fi; ` +
      `base64 -w0 ${archive}; rm -f ${archive}`;
    const result = await execCollect(
      this.kube,
      namespace,
      TOOLBOX_POD,
      TOOLBOX_CONTAINER,
      ['sh', '-c', script, 'sh', String(Math.max(0, limit))],
      60_000,
    );
    if (result.exitCode === 9) {
      throw new SaveError(
        'too_large',
        `your work is too large to save (${kib(Number(result.stderr.trim()))} compressed; the limit is ` +
          `${kib(this.settings.maxBytes)}, SIDECAR_LAB_SAVE_MAX_KIB): remove large files from your home folder`,
      );
    }
    if (result.exitCode !== 0) throw new SaveError('failed', `could not read your files: ${result.stderr.trim()}`);
    return Buffer.from(result.stdout.trim(), 'base64');
  }

  /** Writes a line onto the terminal's screen, so it stays in the scrollback above the prompt. */
  async #tellTerminal(namespace: string, message: string): Promise<void> {
    const script = `tty=$(tmux display-message -p -t main '#{pane_tty}') && printf '\\r\\n%s\\r\\n' "$1" > "$tty"`;
    const result = await execCollect(this.kube, namespace, TOOLBOX_POD, TOOLBOX_CONTAINER, [
      'sh',
      '-c',
      script,
      'sh',
      `[sidecar-lab] ${message}`,
    ]).catch((error: unknown) => ({ exitCode: 1, stderr: String(error), stdout: '' }));
    if (result.exitCode !== 0) this.log.warn({ namespace, stderr: result.stderr }, 'could not tell the terminal');
  }

  #mac(record: Omit<SaveRecord, 'mac' | 'restoredInto'>): string {
    return createHmac('sha256', `save:${this.settings.secret}`)
      .update(JSON.stringify([record.owner, record.createdAt, record.expiresAt, record.reason, record.size]))
      .update(record.files)
      .update(record.manifests)
      .digest('hex');
  }
}

const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`;

function summarize(record: Omit<SaveRecord, 'mac'>, manifests: readonly SavedManifest[]): SaveSummary {
  return {
    createdAt: record.createdAt,
    reason: record.reason,
    size: record.size,
    objects: inApplyOrder(manifests).map((m) => `${m.kind}/${m.metadata.name}`),
  };
}
