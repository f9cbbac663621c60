// Every credential type our client supports, proven against the real API server: who the server says we are
// (a SelfSubjectReview) for a ServiceAccount bearer token, a token file that rotates while the client runs, an exec
// plugin whose credential expires or is revoked, a client certificate, and impersonation.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetCachedCredentials } from './credentials.ts';
import { createKube } from './kube.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { KubeConfig, type KubeUser } from './kubeconfig-file.ts';
import { KubeApiError } from './rest.ts';

const admin = loadKubeConfig();
const kube = createKube(admin);
const namespace = `cred-test-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'cred-test-'));
const cluster = admin.getCurrentCluster()!;

/** A KubeConfig for the same API server as `user`. */
const as = (user: Omit<KubeUser, 'name'> & { name?: string }) =>
  new KubeConfig({
    clusters: [cluster],
    users: [{ ...user, name: 'u' }],
    contexts: [{ name: 'c', cluster: cluster.name, user: 'u' }],
    currentContext: 'c',
  });

interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
}

/** Who the API server takes the client to be. */
async function whoami(kc: KubeConfig): Promise<UserInfo> {
  const review = await createKube(kc).rest.json<{ status?: { userInfo?: UserInfo } }>({
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return review.status?.userInfo ?? {};
}

const saUser = (name: string) => `system:serviceaccount:${namespace}:${name}`;

/** A token for ServiceAccount `sa`; bound to Secret `secret` when given, so deleting the Secret revokes it. */
async function tokenFor(sa: string, secret?: { name: string; uid: string }): Promise<string> {
  const answer = await kube.rest.json<{ status: { token: string } }>({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        expirationSeconds: 3600,
        ...(secret ? { boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: secret.name, uid: secret.uid } } : {}),
      },
    },
  });
  return answer.status.token;
}

/** A token bound to a fresh Secret, and a function that revokes it (deletes the Secret) and waits until it is refused. */
async function revocableToken(sa: string, secretName: string) {
  const secret = await kube.rest.json<{ metadata: { uid: string } }>({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/secrets`,
    body: { metadata: { name: secretName } },
  });
  const token = await tokenFor(sa, { name: secretName, uid: secret.metadata.uid });
  const revoke = async () => {
    await kube.rest.json({ method: 'DELETE', path: `/api/v1/namespaces/${namespace}/secrets/${secretName}` });
    // Asked straight, without our client's renewal: the API server refuses the token once it sees the Secret gone.
    for (;;) {
      const answer = await createKube(as({ token })).rest.send({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
      if (answer.status === 401) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  return { token, revoke };
}

beforeAll(async () => {
  await kube.core.createNamespace({
    body: { metadata: { name: namespace, labels: { 'sidecar-lab.dev/test': 'credentials' } } },
  });
  for (const name of ['alice', 'bob']) {
    await kube.rest.json({
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/serviceaccounts`,
      body: { metadata: { name } },
    });
  }
});

afterAll(async () => {
  await kube.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('credentials against the real API server', () => {
  it('a ServiceAccount bearer token', async () => {
    expect((await whoami(as({ token: await tokenFor('alice') }))).username).toBe(saUser('alice'));
  });

  it('a token file that rotates while the client runs: a 401 makes the client read the file again', async () => {
    const file = join(dir, 'token');
    const first = await revocableToken('alice', 'alice-token');
    writeFileSync(file, first.token);
    const kc = as({ tokenFile: file });
    expect((await whoami(kc)).username).toBe(saUser('alice'));
    // Rotate: the file now holds bob's token and alice's (still cached by the client) is revoked.
    writeFileSync(file, await tokenFor('bob'));
    await first.revoke();
    // One call, no retry loop here: without renewal on 401 it would fail with the cached, revoked token.
    expect((await whoami(kc)).username).toBe(saUser('bob'));
  });

  describe('an exec plugin', () => {
    /** A plugin that prints the next line of `tokens` as an ExecCredential expiring in `ttl` seconds, and counts runs. */
    function plugin(name: string, tokens: string[], ttlSeconds: number) {
      const script = join(dir, `${name}.sh`);
      const runs = join(dir, `${name}.runs`);
      writeFileSync(join(dir, `${name}.tokens`), `${tokens.join('\n')}\n`);
      writeFileSync(runs, '');
      writeFileSync(
        script,
        `#!/bin/sh
echo run >> "${runs}"
n=$(wc -l < "${runs}")
total=$(wc -l < "${dir}/${name}.tokens")
[ "$n" -gt "$total" ] && n=$total
token=$(sed -n "\${n}p" "${dir}/${name}.tokens")
expiry=$(date -u -d "+${ttlSeconds} seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$token" "$expiry"
`,
      );
      chmodSync(script, 0o755);
      const kc = as({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: script,
          args: [],
          env: [],
          provideClusterInfo: false,
        },
      });
      const count = () => readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
      return { kc, count };
    }

    it('is run once, its credential cached until shortly before it expires, then run again', async () => {
      forgetCachedCredentials();
      const alice = await tokenFor('alice');
      const bob = await tokenFor('bob');
      // 20 s of life less the client's 10 s safety margin: cached for about 10 s.
      const { kc, count } = plugin('expiring', [alice, bob], 20);
      expect((await whoami(kc)).username).toBe(saUser('alice'));
      await whoami(kc);
      expect(count()).toBe(1);
      await new Promise((r) => setTimeout(r, 11_000));
      expect((await whoami(kc)).username).toBe(saUser('bob'));
      expect(count()).toBe(2);
    });

    it('is run again when the API server refuses its credential (401)', async () => {
      forgetCachedCredentials();
      const revoked = await revocableToken('alice', 'alice-plugin-token');
      await revoked.revoke();
      const { kc, count } = plugin('revoked', [revoked.token, await tokenFor('bob')], 3600);
      expect((await whoami(kc)).username).toBe(saUser('bob'));
      expect(count()).toBe(2);
    });

    it('a plugin that fails is reported with its own words', async () => {
      const script = join(dir, 'broken.sh');
      writeFileSync(script, '#!/bin/sh\necho "login expired: run acme-login" >&2\nexit 1\n');
      chmodSync(script, 0o755);
      const kc = as({
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: script,
          args: [],
          env: [],
          provideClusterInfo: false,
        },
      });
      await expect(whoami(kc)).rejects.toThrow(/credential plugin .*broken\.sh failed: login expired: run acme-login/);
    });
  });

  it("a client certificate (the local cluster's admin)", async () => {
    const user = admin.getCurrentUser();
    expect(user?.certData).toBeTruthy();
    const info = await whoami(admin);
    expect(info.groups).toContain('system:masters');
  });

  it('impersonation of a user, its uid and groups', async () => {
    const kc = as({
      ...admin.getCurrentUser(),
      impersonate: saUser('alice'),
      impersonateGroups: ['system:serviceaccounts', 'sidecar-lab:testers'],
    });
    const info = await whoami(kc);
    expect(info.username).toBe(saUser('alice'));
    expect(info.groups).toEqual(expect.arrayContaining(['sidecar-lab:testers']));

    const refused = await whoami(as({ token: await tokenFor('bob'), impersonate: saUser('alice') })).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).code).toBe(403);
  });
});
