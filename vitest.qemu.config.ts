import { defineConfig } from 'vitest/config';
import { cleanupHooks } from './vitest.config.js';

/**
 * The qemu smoke test (test/qemu): the real-node image with a real kernel and initramfs, as an ext4
 * disk, booted twice under TCG with a reboot between (docs/development/testing.md "qemu smoke test").
 * Root only; `npm run test:qemu`. Minutes per boot: not part of `npm test`.
 */
export default defineConfig({
  test: {
    globalSetup: [...cleanupHooks.globalSetup],
    setupFiles: [...cleanupHooks.setupFiles],
    name: 'qemu',
    include: ['test/qemu/**/*.test.ts'],
    environment: 'node',
    testTimeout: 1_800_000,
    hookTimeout: 1_200_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
  },
});
