// Hardening — the web preview of a learner's Pod (`/preview/sandboxes/:id/pods/:pod/:port/…`) on the real server and
// cluster: the seed's nginx page comes through; another learner's Pod, guessed ids and escaping paths do not; no
// cookie or credential reaches the Pod and none it sets reaches the browser; the answer runs in an opaque origin; size
// and time are bounded.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl, waitForPod } from '../../../tests/support/kubectl.ts';
import { hostilePod } from '../../../tests/support/preview-pods.ts';
import { PREVIEW_PREFIX } from '../../src/http/preview.ts';
import type { RunningServer } from '../../src/server.ts';
import { Learner } from '../harness.ts';
import { type TwoLearners, twoLearners } from '../two-learners.ts';

let learners: TwoLearners | undefined;
let server: RunningServer;
let a: Learner;
let b: Learner;
let sandboxA: { id: string; namespace: string };
let sandboxB: { id: string; namespace: string };

const SEED_POD = 'lessons/manifests/seed-nginx-with-sidecar.yaml';

/** GET a preview URL with `learner`'s cookie (and any extra headers), as a browser frame would. */
async function preview(learner: Learner, id: string, rest: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${PREVIEW_PREFIX}/${id}/pods/${rest}`, {
    headers: { cookie: learner.cookie, ...headers },
    redirect: 'manual',
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** GET a path exactly as written (fetch would fold `%2e%2e` segments before sending): the status and body. */
function rawGet(path: string, cookie: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(server.url);
    const outgoing = httpRequest({ hostname, port, path, headers: { cookie } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

beforeAll(async () => {
  learners = await twoLearners();
  ({ server, a, b, sandboxA, sandboxB } = learners);
  // A's Pods, and one in B's sandbox with the same name as A's, so a mix-up would show.
  await kubectl(['-n', sandboxA.namespace, 'apply', '-f', SEED_POD]);
  await kubectl(['-n', sandboxA.namespace, 'apply', '-f', '-'], hostilePod());
  await kubectl(['-n', sandboxB.namespace, 'apply', '-f', '-'], hostilePod('nginx-with-sidecar'));
  await Promise.all([
    waitForPod(sandboxA.namespace, 'nginx-with-sidecar'),
    waitForPod(sandboxA.namespace, 'hostile'),
    waitForPod(sandboxB.namespace, 'nginx-with-sidecar'),
  ]);
}, 240_000);

afterAll(async () => {
  await learners?.stop();
});

describe("PREVIEW: a Pod of the learner's own sandbox", () => {
  it("shows the seed's nginx page, in an opaque origin that only the course may frame", async () => {
    const page = await preview(a, sandboxA.id, 'nginx-with-sidecar/80/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>Welcome to nginx!</title>');
    expect(page.headers.get('content-type')).toBe('text/html');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp.split(';')[0]!.trim().split(/\s+/)).toEqual(['sandbox', 'allow-scripts', 'allow-forms', 'allow-popups']);
    expect(csp).toContain("frame-ancestors 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(page.headers.get('set-cookie')).toBeNull();
  });

  it('redirects the bare port to its folder, so relative links resolve below it', async () => {
    const page = await preview(a, sandboxA.id, 'nginx-with-sidecar/80');
    expect(page.status).toBe(308);
    expect(page.headers.get('location')).toBe(`${PREVIEW_PREFIX}/${sandboxA.id}/pods/nginx-with-sidecar/80/`);
  });

  it("passes the Pod's own 404 on and a missing Pod as 404 with the API server's words", async () => {
    const missingFile = await preview(a, sandboxA.id, 'nginx-with-sidecar/80/no-such-page.html');
    expect(missingFile.status).toBe(404);
    expect(missingFile.text).toContain('nginx');
    const missingPod = await preview(a, sandboxA.id, 'no-such-pod/80/');
    expect(missingPod.status).toBe(404);
    expect(missingPod.text).toMatch(/^No preview of no-such-pod:80: pods "no-such-pod" not found/);
  });
});

describe('PREVIEW: what must not get through', () => {
  it("A gets 404 for B's sandbox and for an id that never existed; B's Pod is never fetched", async () => {
    const theirs = await preview(a, sandboxB.id, 'nginx-with-sidecar/80/');
    const none = await preview(a, '0123456789abcdef', 'nginx-with-sidecar/80/');
    expect([theirs.status, theirs.text]).toEqual([404, 'No such sandbox.\n']);
    expect([none.status, none.text]).toEqual([404, 'No such sandbox.\n']);
    // B sees its own Pod of that name (busybox's page, not nginx's) — the namespace comes from the sandbox only.
    const own = await preview(b, sandboxB.id, 'nginx-with-sidecar/8080/');
    expect(own.status).toBe(200);
    expect(own.text).toContain('<title>Hostile preview</title>');
  });

  it('a request without the course cookie is refused and is not handed a session', async () => {
    const anonymous = new Learner(server.url);
    const page = await preview(anonymous, sandboxA.id, 'nginx-with-sidecar/80/');
    expect(page.status).toBe(404);
    expect(page.headers.get('set-cookie')).toBeNull();
  });

  it("sends the Pod neither the course's cookie nor the browser's authorization, and drops the Pod's Set-Cookie", async () => {
    const echo = await preview(a, sandboxA.id, 'hostile/8080/cgi-bin/echo', { authorization: 'Bearer stolen' });
    expect(echo.status).toBe(200);
    expect(echo.text.trim()).toBe('cookie=[] authorization=[]');
    expect(echo.headers.get('set-cookie')).toBeNull();
  });

  it('refuses paths that climb out of the Pod, however they are spelled', async () => {
    // The router folds `..` that climbs past the port itself (no route); encoded separators are refused by name.
    const climbing = await rawGet(
      `${PREVIEW_PREFIX}/${sandboxA.id}/pods/hostile/8080/%2e%2e/%2e%2e/%2e%2e/secrets`,
      a.cookie,
    );
    expect(climbing.status).toBe(404);
    expect(climbing.text).toContain('no route for GET');
    // `x/.%2E/y` is folded to `y` by the URL parser, still below the port; encoded slashes and backslashes are not.
    for (const rest of ['a%2F..%2F..%2Fsecrets', '%2e%2e%2fsecrets', 'a%5c..%5cb', 'x/%2E%2e%5Cy']) {
      const page = await rawGet(`${PREVIEW_PREFIX}/${sandboxA.id}/pods/hostile/8080/${rest}`, a.cookie);
      expect([page.status, page.text], rest).toEqual([400, 'That path leads outside the Pod.\n']);
    }
  });

  it('refuses a page larger than 2 MiB and one that takes longer than 10 s, without waiting for either', async () => {
    const big = await preview(a, sandboxA.id, 'hostile/8080/big');
    expect([big.status, big.text]).toEqual([502, 'Pod hostile sent more than a preview shows (2 MiB).\n']);
    const slow = await preview(a, sandboxA.id, 'hostile/8080/cgi-bin/slow');
    expect([slow.status, slow.text]).toEqual([504, 'Pod hostile did not answer on port 8080 in time.\n']);
  }, 60_000);
});
