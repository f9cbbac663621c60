// Test projects by what they touch: pure logic, the built site, the real local cluster, and a real browser.
import { defineConfig } from 'vitest/config';

const ignored = ['**/node_modules/**', '**/dist/**', '**/.tools/**', '**/.lab/**'];

export default defineConfig({
  test: {
    reporters: ['default', './tests/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          // Pure logic is fast; the few tests that start a fresh Node (CLIs, import probes) need slack on a loaded
          // 2-core machine. A time-out is a guard against a hang, not a measurement.
          testTimeout: 30_000,
          exclude: [
            ...ignored,
            '**/*.cluster.test.ts',
            '**/*.nodes.test.ts',
            '**/*.e2e.test.ts',
            '**/*.database.test.ts',
            'tests/site/**',
          ],
        },
      },
      {
        test: {
          // The stores against real databases: SQLite files and a throwaway PostgreSQL cluster (no Kubernetes).
          name: 'database',
          include: ['**/*.database.test.ts'],
          exclude: ignored,
          globalSetup: ['./tests/support/database-global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'site',
          include: ['tests/site/**/*.test.ts'],
          exclude: ignored,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['**/*.cluster.test.ts'],
          exclude: ignored,
          // A throwaway PostgreSQL too, for the tests of replicas sharing one database.
          globalSetup: ['./tests/support/cluster-global-setup.ts', './tests/support/database-global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // One real cluster serves every file; files run one after another so they don't starve 2 cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          // The local cluster with a second node (cluster.sh up --nodes 2): sandboxes spread over both, isolation
          // across them. Its global setup brings node 2 up and its teardown takes it down again.
          name: 'nodes',
          include: ['**/*.nodes.test.ts'],
          exclude: ignored,
          globalSetup: ['./tests/support/nodes-global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.e2e.test.ts'],
          exclude: ignored,
          globalSetup: ['./tests/support/e2e-global-setup.ts', './tests/support/database-global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
          // One browser session walks one learner's journey; files share one server and one cluster.
          fileParallelism: false,
        },
      },
    ],
  },
});
