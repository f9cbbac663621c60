// Prometheus metrics of the server, in one registry served at /metrics.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { REAP_REASONS } from '../sandboxes/lifetime.ts';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sidecar_lab_process_' });
  return {
    registry,
    activeSandboxes: new Gauge({
      name: 'sidecar_lab_sandboxes_active',
      help: 'Claimed sandboxes that are live',
      registers: [registry],
    }),
    poolSize: new Gauge({
      name: 'sidecar_lab_pool_ready',
      help: 'Warm sandboxes ready to claim',
      registers: [registry],
    }),
    provisionSeconds: new Histogram({
      name: 'sidecar_lab_provision_seconds',
      help: 'Time from request to a terminal that answers',
      labelNames: ['source'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30],
      registers: [registry],
    }),
    terminalConnections: new Gauge({
      name: 'sidecar_lab_terminal_connections',
      help: 'Open terminal WebSockets',
      registers: [registry],
    }),
    checkSeconds: new Histogram({
      name: 'sidecar_lab_check_seconds',
      help: 'Time to run all checks of one exercise',
      labelNames: ['exercise', 'status'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    stuckTerminating: new Gauge({
      name: 'sidecar_lab_sandboxes_stuck_terminating',
      help: 'Sandbox namespaces still Terminating longer after their deletion than SIDECAR_LAB_STUCK_TERMINATING_MINUTES',
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'sidecar_lab_leader',
      help: '1 while this replica holds the Lease and runs the warm pool and the reaper, else 0',
      registers: [registry],
    }),
    reaped: new Counter({
      name: 'sidecar_lab_sandboxes_reaped_total',
      help: 'Expired sandboxes deleted',
      registers: [registry],
    }),
    reaperDecisions: reaperDecisions(registry),
    activityWrites: new Counter({
      name: 'sidecar_lab_activity_writes_total',
      help: 'Learner activity written to the cluster (throttled per sandbox); result "moved" when the expiry moved',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

/** Sandboxes the reaper deleted, by reason; every reason is listed from the start, at 0. */
function reaperDecisions(registry: Registry) {
  const counter = new Counter({
    name: 'sidecar_lab_reaper_decisions_total',
    help: 'Sandboxes the reaper deleted, by reason: idle, max_lifetime, workshop_ended, pool_expired, abandoned_build',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of REAP_REASONS) counter.inc({ reason }, 0);
  return counter;
}

export type Metrics = ReturnType<typeof createMetrics>;
