import { defineConfig } from 'vitest/config';

/**
 * The cleanup hooks of every project (test/helpers/scope.ts): each test file's temp dirs and
 * processes go away when it ends, pass or fail; the global teardown sweeps what a crashed worker
 * left. Exported for the cleanup regression test's sub-run (test/fixtures/cleanup/vitest.config.ts).
 */
export const cleanupHooks = {
  globalSetup: ['test/helpers/vitest-global-setup.ts'],
  setupFiles: ['test/helpers/vitest-setup.ts'],
} as const;

/** Two projects: pure unit tests, and integration tests against real processes (bus, ostree, HTTP, etcd). */
export default defineConfig({
  test: {
    globalSetup: [...cleanupHooks.globalSetup],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          setupFiles: [...cleanupHooks.setupFiles],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          setupFiles: [...cleanupHooks.setupFiles],
          // Ceilings, not waits: tests wait for events; a CI machine running other jobs is slow.
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Integration suites start daemons and share 2 cores: keep them serial.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
