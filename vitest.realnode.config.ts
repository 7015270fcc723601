import { defineConfig } from 'vitest/config';
import { cleanupHooks } from './vitest.config.js';

/**
 * The real-node tests (test/e2e): systemd-nspawn nodes booting a cached Debian ostree image
 * (test/realnode, docs/development/testing.md "Real nodes"). Root only; `npm run test:realnode`.
 * Serial: the nodes, the image build and the other suites share 2 cores.
 */
export default defineConfig({
  test: {
    globalSetup: [...cleanupHooks.globalSetup],
    setupFiles: [...cleanupHooks.setupFiles],
    name: 'realnode',
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 480_000,
    hookTimeout: 600_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
  },
});
