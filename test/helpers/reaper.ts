// The run's watchdog (started detached by vitest-global-setup.ts, from dist/): waits until the vitest
// process that started it is gone, however it went (its end of our stdin closes, also on SIGKILL),
// then sweeps the run root (see scope.ts) and removes vitest's own temp dirs (argv after the root),
// which a crashed vitest leaves. After a normal teardown there is nothing left to do.
import { rm } from 'node:fs/promises';
import { sweepRun } from './scope.js';

const [root, ...vitestDirs] = process.argv.slice(2);
if (!root) throw new Error('usage: reaper.js RUN_ROOT [VITEST_TMP_DIR...]');
process.stdin.resume();
process.stdin.once('close', () => {
  void (async () => {
    await sweepRun(root, { workers: true });
    for (const dir of vitestDirs) await rm(dir, { recursive: true, force: true });
  })().finally(() => process.exit(0));
});
