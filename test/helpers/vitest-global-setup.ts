// vitest globalSetup entry: the per-run root every test file's cleanup scope lives in (see scope.ts),
// and the backstops at the end of the run: the teardown ends whatever a crashed worker left
// (processes marked with, or recorded under, this root) and removes the root; a detached watchdog
// (reaper.ts) does the same if vitest itself dies before its teardown; and a run whose watchdog was
// not there either (no build yet) is swept by the next run's setup.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { createRunRoot, RUN_ROOT_ENV, sweepRun, sweepStaleRuns } from './scope.js';

// The compiled watchdog: a plain node process that outlives vitest. Absent before the first build.
const REAPER = fileURLToPath(new URL('../../dist/test/helpers/reaper.js', import.meta.url));

/** Creates the run root and exports it to the workers (they are forked after this, with this env). */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  await sweepStaleRuns();
  const root = await createRunRoot();
  process.env[RUN_ROOT_ENV] = root;
  const vitestDirs = [project, ...project.vitest.projects].map((p) => p.tmpDir);
  const reaper = existsSync(REAPER) ? spawn(process.execPath, [REAPER, root, ...vitestDirs], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] }) : null;
  reaper?.unref();
  reaper?.stdin?.on('error', () => undefined);
  (reaper?.stdin as { unref?: () => void } | null | undefined)?.unref?.();
  return async () => {
    const pids = await sweepRun(root);
    // Nothing left for it; ending its stdin would look like a dead vitest and sweep the live workers.
    reaper?.kill();
    if (pids.length > 0) console.warn(`test cleanup: ended ${pids.length} process(es) left after the run: ${pids.join(', ')}`);
  };
}
