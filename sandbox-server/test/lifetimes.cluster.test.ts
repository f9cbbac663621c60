// Lifetimes that follow activity, on the real server and cluster with shortened periods: an active learner outlives
// the idle period, an idle one is reaped after it, nobody outlives the maximum, extensions stop at it, a workshop's
// sandbox follows the workshop's end, and /metrics counts the reaper's decisions by reason.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlRaw, waitFor } from '../../tests/support/kubectl.ts';
import { ANNOTATIONS } from '../src/cluster/labels.ts';
import type { RunningServer } from '../src/server.ts';
import { formatJoinCode, hashToken, newJoinCode } from '../src/workshops/secrets.ts';
import { deleteInstanceNamespaces, Learner, startTestServer, type TerminalClient, testInstance } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read response fields one by one and assert each.
type Json = any;

const IDLE_MS = 45_000;
const MAX_MS = 150_000;
const WORKSHOP_MS = 100_000;

let server: RunningServer;
const instance = testInstance();
const created: string[] = [];

interface Owned {
  learner: Learner;
  id: string;
  namespace: string;
  /** The sandbox as first answered. */
  first: Json;
}

let active: Owned;
let idle: Owned;
let extender: Owned;
let member: Owned;
let workshopEndsAt: number;
let typing: { stop: () => Promise<void>; views: Json[]; terminal: TerminalClient };

async function claim(learner: Learner, path = '/api/sandboxes', body: unknown = {}): Promise<Owned> {
  const response = await learner.request('POST', path, body);
  expect(response.status, JSON.stringify(response.json)).toBe(201);
  const view = response.json.sandbox ?? response.json;
  created.push(view.namespace);
  return { learner, id: view.id, namespace: view.namespace, first: view };
}

/** True once the namespace is being deleted or gone. */
async function reaped(namespace: string): Promise<boolean> {
  const phase = await kubectlRaw(['get', 'ns', namespace, '-o', 'jsonpath={.status.phase}']);
  return phase.code !== 0 || phase.stdout === 'Terminating';
}

/** Types a command every two seconds until stopped or the terminal closes; reads the sandbox's view after each. */
async function keepTyping(owned: Owned): Promise<typeof typing> {
  const terminal = await owned.learner.terminal(owned.id);
  const views: Json[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      terminal.type(`echo tick-${i}\r`);
      const view = await owned.learner.request('GET', `/api/sandboxes/${owned.id}`);
      if (view.status === 200) views.push(view.json);
      await new Promise((r) => setTimeout(r, 2_000));
    }
  })();
  return {
    views,
    terminal,
    stop: async () => {
      running = false;
      await loop;
      await terminal.close();
    },
  };
}

async function claimTime(namespace: string): Promise<number> {
  const jsonpath = `jsonpath={.metadata.annotations.sidecar-lab\\.dev/claimed-at}`;
  return Date.parse(await kubectl(['get', 'ns', namespace, '-o', jsonpath]));
}

/** `sidecar_lab_reaper_decisions_total` by reason, from /metrics. */
async function decisions(): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^sidecar_lab_reaper_decisions_total\{reason="([a-z_]+)"\} (\d+)$/gm)) {
    counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

beforeAll(async () => {
  ({ server } = await startTestServer({
    SIDECAR_LAB_INSTANCE: instance,
    SIDECAR_LAB_SANDBOX_TTL_MINUTES: String(IDLE_MS / 60_000),
    SIDECAR_LAB_MAX_TTL_MINUTES: String(MAX_MS / 60_000),
    SIDECAR_LAB_EXPIRY_WARNING_MINUTES: '0.25',
    SIDECAR_LAB_REAPER_INTERVAL_SECONDS: '2',
  }));
  // A workshop ending sooner than the idle period could show: stored as the CLI stores one, so its end can be shorter
  // than the five minutes the creation form asks for.
  const code = newJoinCode();
  const workshopId = randomBytes(8).toString('hex');
  workshopEndsAt = Date.now() + WORKSHOP_MS;
  await server.repo.createWorkshop({
    id: workshopId,
    name: 'Lifetimes',
    code,
    tokenHash: hashToken(randomBytes(16).toString('hex')),
    capacity: 5,
    exercises: ['first-sidecar'],
    createdAt: new Date().toISOString(),
    endsAt: new Date(workshopEndsAt).toISOString(),
  });
  [active, idle, extender, member] = await Promise.all([
    claim(new Learner(server.url)),
    claim(new Learner(server.url)),
    claim(new Learner(server.url)),
    claim(new Learner(server.url), '/api/workshops/join', { code: formatJoinCode(code), name: 'Ana' }),
  ]);
  typing = await keepTyping(active);
});

afterAll(async () => {
  await typing?.stop();
  await server?.close();
  await deleteInstanceNamespaces(instance, created);
});

describe('a sandbox lives while its learner is active', () => {
  it('shows the lifetime rules in its view', () => {
    expect(active.first.idleSeconds).toBe(IDLE_MS / 1000);
    expect(active.first.warnSeconds).toBe(15);
    expect(Date.parse(active.first.endsBy) - Date.parse(active.first.expiresAt)).toBe(MAX_MS - IDLE_MS);
    expect(member.first.workshop).toBeTruthy();
    expect(member.first.endsBy).toBeUndefined();
    expect(member.first.idleSeconds).toBeUndefined();
    expect(Date.parse(member.first.expiresAt)).toBe(workshopEndsAt);
  });

  it('an API call (a file written) and a Check pressed move the expiry; the page reading the status does not', async () => {
    const { learner, id } = extender;
    const expiry = async () => Date.parse((await learner.request('GET', `/api/sandboxes/${id}`)).json.expiresAt);
    const before = await expiry();
    expect(await expiry()).toBe(before);
    const write = await learner.request('POST', `/api/sandboxes/${id}/files`, { path: 'note.txt', content: 'hi' });
    expect(write.status).toBe(204);
    const afterWrite = await waitFor('the write to move the expiry', async () => {
      const now = await expiry();
      return now > before && now;
    });
    const check = await learner.request('POST', `/api/sandboxes/${id}/checks/first-sidecar`, { trigger: 'manual' });
    expect(check.status).toBe(200);
    await waitFor('the Check to move the expiry', async () => (await expiry()) > afterWrite);
  });

  it('extends within the maximum and refuses beyond it, naming the limit', async () => {
    const { learner, id } = extender;
    const view = (await learner.request('GET', `/api/sandboxes/${id}`)).json;
    const once = await learner.request('POST', `/api/sandboxes/${id}/extend`, { minutes: 1 });
    expect(once.status, JSON.stringify(once.json)).toBe(200);
    expect(Date.parse(once.json.expiresAt)).toBeGreaterThan(Date.parse(view.expiresAt));
    expect(Date.parse(once.json.expiresAt)).toBeLessThanOrEqual(Date.parse(view.endsBy));
    // Asking for more than is left stops at the maximum (unless the first one already reached it)…
    if (once.json.expiresAt !== view.endsBy) {
      const capped = await learner.request('POST', `/api/sandboxes/${id}/extend`, { minutes: 10 });
      expect(capped.status).toBe(200);
      expect(capped.json.expiresAt).toBe(view.endsBy);
    }
    // …and once there, an extension is refused with the limit in the message.
    const refused = await learner.request('POST', `/api/sandboxes/${id}/extend`, { minutes: 1 });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('conflict');
    expect(refused.json.error.message).toContain('longest allowed (2.5 minutes from its start');
    expect(refused.json.error.message).toContain(view.endsBy);
  });

  it('a workshop learner cannot extend on their own: the workshop decides', async () => {
    const refused = await member.learner.request('POST', `/api/sandboxes/${member.id}/extend`, { minutes: 1 });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain('ends with it');
  });

  it('an idle learner is reaped after the idle period; a typing one outlives it', async () => {
    const idleExpiry = Date.parse(idle.first.expiresAt);
    await waitFor('the idle sandbox to be reaped', () => reaped(idle.namespace), 180_000);
    // Never before its expiry: the idle period had passed with nothing from its learner.
    expect(Date.now()).toBeGreaterThanOrEqual(idleExpiry);
    const claimedAt = await claimTime(active.namespace);
    // The typing learner's sandbox is alive past the idle period, with an expiry its typing moved.
    await waitFor(
      'the idle period to pass for the typing learner',
      async () => Date.now() > claimedAt + IDLE_MS + 5_000,
    );
    expect(await reaped(active.namespace)).toBe(false);
    const latest = typing.views.at(-1);
    expect(latest.status).toBe('ready');
    expect(Date.parse(latest.expiresAt)).toBeGreaterThan(Date.parse(active.first.expiresAt));
    expect(await typing.terminal.waitFor(/tick-\d+/)).toBeTruthy();
  });

  it('a workshop sandbox outlives the idle period and ends at the workshop end', async () => {
    const claimedAt = await claimTime(member.namespace);
    await waitFor(
      'the idle period to pass for the workshop learner',
      async () => Date.now() > claimedAt + IDLE_MS + 5_000,
    );
    expect(await reaped(member.namespace)).toBe(false);
    await waitFor('the workshop sandbox to be reaped', () => reaped(member.namespace), 240_000);
    expect(Date.now()).toBeGreaterThanOrEqual(workshopEndsAt);
  });

  it('nobody outlives the maximum, however active', async () => {
    const endsBy = Date.parse(active.first.endsBy);
    await waitFor('the typing learner to reach the maximum', () => reaped(active.namespace), 240_000);
    expect(Date.now()).toBeGreaterThanOrEqual(endsBy);
    // While typing, the expiry followed the activity, and never went past the maximum.
    expect(typing.views.length).toBeGreaterThan(3);
    for (const view of typing.views) expect(Date.parse(view.expiresAt)).toBeLessThanOrEqual(endsBy);
    await waitFor('the extended sandbox to reach the maximum', () => reaped(extender.namespace), 120_000);
  });

  it('/metrics counts the reaper decisions by reason', async () => {
    const counts = await decisions();
    // Every reason is listed; other servers' reapers on the shared cluster may reach a sandbox first, so the natural
    // flows above are not counted exactly. The sweep below is this server's own, for one sandbox of each reason.
    expect(Object.keys(counts).sort()).toEqual([
      'abandoned_build',
      'idle',
      'max_lifetime',
      'pool_expired',
      'workshop_ended',
    ]);
    const fresh = await Promise.all([claim(new Learner(server.url)), claim(new Learner(server.url))]);
    const past = new Date(Date.now() - 1_000).toISOString();
    await kubectl(['annotate', 'ns', fresh[0]!.namespace, `${ANNOTATIONS.expiresAt}=${past}`, '--overwrite']);
    await kubectl([
      'annotate',
      'ns',
      fresh[1]!.namespace,
      `${ANNOTATIONS.expiresAt}=${past}`,
      `${ANNOTATIONS.endsBy}=${past}`,
      '--overwrite',
    ]);
    await server.reaper.sweep();
    // Counted once deleted (after the learner's work is saved), by this sweep or the background one that got there first.
    await waitFor('both decisions counted', async () => {
      const after = await decisions();
      return after.idle! >= (counts.idle ?? 0) + 1 && after.max_lifetime! >= (counts.max_lifetime ?? 0) + 1;
    });
    expect(await reaped(fresh[0]!.namespace)).toBe(true);
    expect(await reaped(fresh[1]!.namespace)).toBe(true);
  });
});
