// Issue 11: every process and directory a test makes goes away, pass or fail. Runs the leaky fixture
// suites (test/fixtures/cleanup) in a vitest sub-run with the real cleanup hooks and its own temp
// dir, and checks afterwards that the temp dir is empty and that no process the sub-run started
// (they all inherit LEAK_REPORT in their environment) is still running.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/graphd.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');

/** Pids of running (non-zombie) processes whose environment holds `entry`. */
function processesWithEnv(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z' && readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(entry)) found.push(Number(name));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return found;
}

/** Runs one fixture suite; resolves once it is over (vitest and its watchdog exited), with what it left behind. */
async function subRun(fixture: string): Promise<{ code: number | null; output: string; noted: { pids: number[]; dirs: string[] }; tmpLeft: string[]; running: number[] }> {
  const base = await mkdtemp(join(tmpdir(), 'leftovers-'));
  const subTmp = join(base, 'tmp');
  await mkdir(subTmp);
  const report = join(base, 'report');
  const env = { ...process.env, TMPDIR: subTmp, LEAK_REPORT: report };
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = execFile(process.execPath, [VITEST, 'run', '--config', 'test/fixtures/cleanup/vitest.config.ts', fixture], { cwd: ROOT, env }, (_err, stdout, stderr) =>
      resolve({ code: child.exitCode, output: `${stdout}${stderr}` }),
    );
  });
  // A vitest that crashed leaves the sweep to its watchdog, which may still be at it: wait for it.
  const marker = `LEAK_REPORT=${report}`;
  await waitFor('the sub-run to leave nothing', async () => (await readdir(subTmp)).length === 0 && processesWithEnv(marker).length === 0, 30_000).catch(() => undefined);
  const lines = (await readFile(report, 'utf8').catch(() => '')).split('\n');
  const noted = {
    pids: lines.filter((l) => l.startsWith('pid ')).map((l) => Number(l.slice(4))),
    dirs: lines.filter((l) => l.startsWith('dir ')).map((l) => l.slice(4)),
  };
  return { code, output, noted, tmpLeft: await readdir(subTmp), running: processesWithEnv(marker) };
}

describe('test cleanup (issue 11)', () => {
  it('lets a tidy suite pass (exit 0) and leaves nothing after it either', async () => {
    const r = await subRun('passes');
    expect(r.code, r.output).toBe(0);
    expect(r.running).toEqual([]);
    expect(r.tmpLeft).toEqual([]);
  });

  for (const [fixture, how] of [
    ['fails-mid-suite', 'a suite that fails before its own cleanup'],
    ['worker-dies', 'a suite whose vitest worker is killed'],
  ] as const) {
    it(`leaves no directory and no process after ${how}`, async () => {
      const r = await subRun(fixture);
      // The fixture really ran, leaked (3 processes, 2 dirs) and failed.
      expect(r.code, r.output).not.toBe(0);
      expect(r.noted.pids, r.output).toHaveLength(3);
      expect(r.noted.dirs).toHaveLength(2);
      // Nothing is left: no process of the sub-run, no entry in its temp dir, none of the noted dirs.
      expect(r.running).toEqual([]);
      expect(r.tmpLeft).toEqual([]);
      for (const dir of r.noted.dirs) await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  }
});
