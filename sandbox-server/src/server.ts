// Composes the server: cluster, sandboxes, pool, reaper, store, HTTP app, static site and the terminal WebSocket.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { serve } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import { ensureClusterObjects } from './cluster/cluster-setup.ts';
import { createKube } from './cluster/kube.ts';
import { loadKubeConfig } from './cluster/kubeconfig.ts';
import { LeaderElector } from './cluster/leader.ts';
import type { Config } from './config.ts';
import { createApp } from './http/app.ts';
import { livePolicy } from './http/csp.ts';
import { createMetrics } from './http/metrics.ts';
import { setTrustedProxies, trustedProxies } from './http/peer.ts';
import { ProbeLimiter } from './http/probe-limit.ts';
import { SessionSigner } from './http/session.ts';
import { staticSite } from './http/static-site.ts';
import { ActivityRecorder, activityInterval } from './sandboxes/activity.ts';
import { CheckService } from './sandboxes/checks.ts';
import { WarmPool } from './sandboxes/pool.ts';
import { Reaper } from './sandboxes/reaper.ts';
import { Sandboxes } from './sandboxes/sandboxes.ts';
import { Saves } from './saves/saves.ts';
import { openRepository } from './store/open.ts';
import type { Repository } from './store/repository.ts';
import { terminalUpgradeHandler } from './terminal/upgrade.ts';
import { WorkshopService } from './workshops/workshops.ts';

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
  pool: WarmPool;
  reaper: Reaper;
  sandboxes: Sandboxes;
  repo: Repository;
  activity: ActivityRecorder;
  saves: Saves;
}

export async function startServer(
  config: Config,
  log: Logger = pino({ level: config.LOG_LEVEL }),
): Promise<RunningServer> {
  const kc = loadKubeConfig({
    ...(config.SIDECAR_LAB_CLUSTER !== 'local' && config.KUBECONFIG ? { kubeconfig: config.KUBECONFIG } : {}),
    ...(config.SIDECAR_LAB_CONTEXT ? { context: config.SIDECAR_LAB_CONTEXT } : {}),
    fallback: config.SIDECAR_LAB_CLUSTER === 'local' ? 'local' : 'user',
  });
  if (kc.ignored.length) log.warn({ settings: kc.ignored }, 'kubeconfig settings this server does not apply');
  const kube = createKube(kc);
  setTrustedProxies(trustedProxies(config.SIDECAR_LAB_TRUSTED_PROXIES));
  await ensureClusterObjects(kube, config.SIDECAR_LAB_ALLOWED_IMAGES, config.SIDECAR_LAB_TOOLBOX_IMAGE);

  const metrics = createMetrics();
  const repo = await openRepository(config);
  const signer = new SessionSigner(config.sessionSecret);
  const sandboxes = new Sandboxes(kube, {
    toolboxImage: config.SIDECAR_LAB_TOOLBOX_IMAGE,
    budget: {
      pods: config.SIDECAR_LAB_QUOTA_PODS,
      cpu: config.SIDECAR_LAB_QUOTA_CPU,
      memory: config.SIDECAR_LAB_QUOTA_MEMORY,
    },
    ttlMinutes: config.SIDECAR_LAB_SANDBOX_TTL_MINUTES,
    maxTtlMinutes: config.SIDECAR_LAB_MAX_TTL_MINUTES,
    warningMinutes: config.SIDECAR_LAB_EXPIRY_WARNING_MINUTES,
    instance: config.SIDECAR_LAB_INSTANCE,
  });
  // Terminal input, the learner's API calls and their Checks keep a sandbox alive; see sandboxes/lifetime.ts.
  const activity = new ActivityRecorder(
    (id, at) => sandboxes.recordActivity(id, at),
    activityInterval(sandboxes.lifetime.idleMs),
    log,
    (moved) => metrics.activityWrites.inc({ result: moved ? 'moved' : 'unchanged' }),
  );
  const checks = new CheckService(kc, repo, (exercise, seconds, status) =>
    metrics.checkSeconds.observe({ exercise, status }, seconds),
  );
  const saves = new Saves(
    kc,
    kube,
    repo,
    {
      maxBytes: config.SIDECAR_LAB_SAVE_MAX_KIB * 1024,
      retentionDays: config.SIDECAR_LAB_SAVE_RETENTION_DAYS,
      secret: config.sessionSecret,
    },
    log,
  );
  const pool = new WarmPool(sandboxes, config.SIDECAR_LAB_POOL_SIZE, log, (n) => metrics.poolSize.set(n));
  const reaper = new Reaper(sandboxes, log, (n) => metrics.reaped.inc(n), {
    stuckAfterMs: config.SIDECAR_LAB_STUCK_TERMINATING_MINUTES * 60_000,
    onStuck: (stuck) => metrics.stuckTerminating.set(stuck.length),
    onDecision: (reason) => metrics.reaperDecisions.inc({ reason }),
    // A learner's work outlives their sandbox: saved before the reaper deletes it, restored when they come back.
    beforeDelete: (sandbox, reason) => saves.save(sandbox, reason),
  });
  const workshops = new WorkshopService(
    repo,
    sandboxes,
    { maxMinutes: config.SIDECAR_LAB_MAX_TTL_MINUTES, maxSandboxes: config.SIDECAR_LAB_MAX_SANDBOXES },
    log,
  );
  checks.onRecorded((run) => void workshops.noticeCheck(run.session));
  // A Check the learner pressed is activity; the page's automatic re-checks (after any change in the namespace, even
  // a crash-looping Pod's) are not, or a sandbox left alone would never expire.
  checks.onRecorded((run) => {
    if (run.trigger === 'manual') activity.touch(run.sandbox);
  });

  const probes = new ProbeLimiter({ counters: repo });
  const site = {
    root: config.SIDECAR_LAB_SITE_DIR,
    contentSecurityPolicy: livePolicy(config.SIDECAR_LAB_SITE_DIR, config.allowedOrigins),
  };
  const app = createApp({
    kube,
    sandboxes,
    pool,
    checks,
    repo,
    signer,
    metrics,
    log,
    maxSandboxes: config.SIDECAR_LAB_MAX_SANDBOXES,
    createRatePerMinute: config.SIDECAR_LAB_CREATE_RATE_PER_MINUTE,
    secureCookies: config.SIDECAR_LAB_SECURE_COOKIES,
    allowedOrigins: config.allowedOrigins,
    workshops,
    probes,
    activity,
    saves,
    site,
    ...(config.SIDECAR_LAB_OIDC_ISSUER && config.SIDECAR_LAB_OIDC_CLIENT_ID
      ? {
          oidc: {
            settings: {
              issuer: config.SIDECAR_LAB_OIDC_ISSUER,
              clientId: config.SIDECAR_LAB_OIDC_CLIENT_ID,
              ...(config.SIDECAR_LAB_OIDC_CLIENT_SECRET ? { clientSecret: config.SIDECAR_LAB_OIDC_CLIENT_SECRET } : {}),
              publicUrl: config.SIDECAR_LAB_PUBLIC_URL ?? config.allowedOrigins[0]!,
            },
            cookieSecret: config.sessionSecret,
          },
        }
      : {}),
  });
  app.use('/*', staticSite(site.root, site));

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
  });
  const terminals = terminalUpgradeHandler({
    kube,
    sandboxes,
    signer,
    allowedOrigins: config.allowedOrigins,
    log,
    probes,
    maxPerSession: config.SIDECAR_LAB_MAX_TERMINALS_PER_SESSION,
    onConnectionsChange: (d) => metrics.terminalConnections.inc(d),
    onInput: (id) => activity.touch(id),
  });
  server.on('upgrade', terminals.handler);
  // Replicas share the cluster: only the one holding the Lease refills the pool and reaps; the others serve.
  const leader = new LeaderElector(kube, {
    namespace: config.SIDECAR_LAB_LEASE_NAMESPACE,
    name: `sidecar-lab-pool-${config.SIDECAR_LAB_INSTANCE}`,
    identity: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    leaseSeconds: config.SIDECAR_LAB_LEASE_SECONDS,
    log,
    onStartedLeading: () => {
      metrics.leader.set(1);
      reaper.start(config.SIDECAR_LAB_REAPER_INTERVAL_SECONDS * 1000);
      pool.start();
    },
    onStoppedLeading: () => {
      metrics.leader.set(0);
      pool.stop();
      reaper.stop();
    },
  });
  metrics.leader.set(0);
  leader.start();
  // Saves past their retention are never restored (the query skips them), and rate limit windows that ended never
  // count again (the longest lasts an hour): this frees their space.
  const purge = setInterval(() => {
    void repo.purgeSaves().catch((error) => log.warn({ err: error }, 'could not purge saves'));
    void repo.purgeRateLimits().catch((error) => log.warn({ err: error }, 'could not purge rate limit windows'));
  }, 3_600_000);
  purge.unref();
  await repo.purgeSaves();
  await repo.purgeRateLimits();
  const port = (server.address() as AddressInfo).port;
  log.info(
    { port, cluster: config.SIDECAR_LAB_CLUSTER, pool: config.SIDECAR_LAB_POOL_SIZE },
    'sidecar lab server listening',
  );
  return {
    url: `http://${config.HOST}:${port}`,
    port,
    pool,
    reaper,
    sandboxes,
    repo,
    activity,
    saves,
    close: async () => {
      await leader.stop();
      pool.stop();
      reaper.stop();
      activity.stop();
      clearInterval(purge);
      terminals.closeAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive and SSE connections would hold close() open forever.
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
      await repo.close();
      probes.close();
    },
  };
}
