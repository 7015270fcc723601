// The check runner against real processes: a hang is killed at its deadline (whole process group),
// a non-executable file is skipped with a warning, a missing directory holds no checks, /etc
// overrides /usr/lib by name and a /dev/null symlink masks.
import { chmod, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { ADMIN_DIR, VENDOR_DIR } from '../../../src/health/checks.js';
import { failedSummary, requiredPassed, runChecks, runHooks, type SuiteOptions } from '../../../src/health/suite.js';

async function check(root: string, dir: string, name: string, body: string, mode = 0o755): Promise<string> {
  const d = join(root, dir);
  await mkdir(d, { recursive: true });
  const p = join(d, name);
  await writeFile(p, `#!/bin/sh\n${body}\n`);
  await chmod(p, mode);
  return p;
}

function suite(root: string, over: Partial<SuiteOptions> = {}): SuiteOptions & { logger: ReturnType<typeof memoryLogger> } {
  return { root, timeoutMs: 10_000, requiredUnits: [], clock: systemClock(), logger: memoryLogger(), ...over } as SuiteOptions & { logger: ReturnType<typeof memoryLogger> };
}

describe('health checks on disk', () => {
  it('a missing directory means no checks: healthy, no error', async () => {
    const root = await mkdtemp(join(tmpdir(), 'health-'));
    const s = suite(root);
    const out = await runChecks(s);
    expect(out).toEqual([]);
    expect(requiredPassed(out)).toBe(true);
    expect(s.logger.records.filter((r) => r.level === 'error')).toEqual([]);
  });

  it('runs required and wanted checks in name order; a failing wanted check does not make the boot red', async () => {
    const root = await mkdtemp(join(tmpdir(), 'health-'));
    await check(root, `${VENDOR_DIR}/required.d`, '20-b', 'echo b-ok');
    await check(root, `${VENDOR_DIR}/required.d`, '10-a', 'echo a-ok');
    await check(root, `${VENDOR_DIR}/wanted.d`, '10-w', 'echo warn >&2; exit 3');
    const out = await runChecks(suite(root));
    expect(out.map((c) => [c.name, c.kind, c.result, c.exitCode])).toEqual([
      ['10-a', 'required', 'passed', 0],
      ['20-b', 'required', 'passed', 0],
      ['10-w', 'wanted', 'failed', 3],
    ]);
    expect(out[2]!.outputTail).toBe('warn\n');
    expect(requiredPassed(out)).toBe(true);
  });

  it('a hanging check is killed at its deadline with its children, and counts as failed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'health-'));
    const pidFile = join(root, 'child.pid');
    await check(root, `${ADMIN_DIR}/required.d`, 'hang', `sleep 600 & echo $! > ${pidFile}; echo started; wait`);
    const s = suite(root, { timeoutMs: 500 });
    const out = await runChecks(s);
    expect(out.map((c) => [c.name, c.result])).toEqual([['hang', 'timeout']]);
    expect(out[0]!.outputTail).toContain('started\n');
    expect(out[0]!.outputTail).toContain('(killed after 500 ms)');
    expect(requiredPassed(out)).toBe(false);
    expect(failedSummary(out)).toBe('hang timed out');
    expect(s.logger.records.find((r) => r.fields['event'] === 'health_check_timeout')?.msg).toBe('required health check hang timed out after 500 ms and was killed');
    const child = Number((await readFile(pidFile, 'utf8')).trim());
    const alive = (): boolean => {
      try {
        process.kill(child, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 30_000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(alive()).toBe(false);
  });

  it('a non-executable check is skipped with a warning naming it, and does not fail the boot', async () => {
    const root = await mkdtemp(join(tmpdir(), 'health-'));
    const p = await check(root, `${VENDOR_DIR}/required.d`, 'noexec', 'exit 1', 0o644);
    const s = suite(root);
    const out = await runChecks(s);
    expect(out.map((c) => [c.name, c.result, c.outputTail])).toEqual([['noexec', 'skipped', 'not executable']]);
    expect(requiredPassed(out)).toBe(true);
    expect(s.logger.records.find((r) => r.fields['event'] === 'health_check_skipped')?.msg).toBe(`health check ${p} skipped: not executable`);
  });

  it('/etc overrides /usr/lib by name and a /dev/null symlink masks a vendor check', async () => {
    const root = await mkdtemp(join(tmpdir(), 'health-'));
    await check(root, `${VENDOR_DIR}/required.d`, 'same', 'exit 1');
    await check(root, `${ADMIN_DIR}/required.d`, 'same', 'echo admin');
    await check(root, `${VENDOR_DIR}/required.d`, 'masked', 'exit 1');
    await symlink('/dev/null', join(root, ADMIN_DIR, 'required.d', 'masked'));
    const out = await runChecks(suite(root));
    expect(out.map((c) => [c.name, c.result, c.outputTail])).toEqual([['same', 'passed', 'admin\n']]);
  });

  it('a required unit that is not active fails the boot', async () => {
    const root = await mkdtemp(join(tmpdir(), 'health-'));
    const fake = await check(root, 'bin', 'systemctl', '[ "$4" = good.service ]');
    const out = await runChecks(suite(root, { requiredUnits: ['good.service', 'bad.service'], systemctl: [fake] }));
    expect(out.map((c) => [c.name, c.result])).toEqual([['unit:good.service', 'passed'], ['unit:bad.service', 'failed']]);
    expect(failedSummary(out)).toBe('unit:bad.service failed');
  });

  it('runs the green.d hooks; a failing hook is only logged', async () => {
    const root = await mkdtemp(join(tmpdir(), 'health-'));
    const mark = join(root, 'green-ran');
    await check(root, `${VENDOR_DIR}/green.d`, '10-mark', `touch ${mark}`);
    await check(root, `${VENDOR_DIR}/green.d`, '20-bad', 'exit 1');
    const s = suite(root);
    await runHooks(s, 'green.d');
    await expect(readFile(mark, 'utf8')).resolves.toBe('');
    expect(s.logger.records.filter((r) => r.fields['event'] === 'health_hook_failed')).toHaveLength(1);
  });
});
