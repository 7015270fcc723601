// The shipped systemd files, checked by systemd's own tools: `systemd-analyze verify` on every unit
// in systemd/system/, the security exposure of alt-updated.service, and sysusers + tmpfiles applied
// to a temporary root.
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALT_UPDATED, ALT_UPDATED_NODE_ARGS, shebangNodeArgs } from '../helpers/testbed-node.js';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const UNITS = join(ROOT, 'systemd', 'system');

async function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const r = await exec(cmd, args);
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err: unknown) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/**
 * Copies a unit into `dir`, pointing every Exec*= binary that is not installed on this machine at
 * an executable stub (verify insists the binaries exist; ours are installed only on a real host).
 */
async function stageUnit(file: string, dir: string): Promise<string> {
  const lines = (await readFile(join(UNITS, file), 'utf8')).split('\n');
  const out: string[] = [];
  for (const line of lines) {
    const m = /^(Exec\w+=[-@+!:]*)(\/\S+)(.*)$/.exec(line);
    if (!m || (await exists(m[2]!))) {
      out.push(line);
      continue;
    }
    const stub = join(dir, 'stub', m[2]!);
    await mkdir(dirname(stub), { recursive: true });
    await writeFile(stub, '#!/bin/sh\nexit 0\n');
    await chmod(stub, 0o755);
    out.push(`${m[1]!}${stub}${m[3]!}`);
  }
  const staged = join(dir, file);
  await writeFile(staged, out.join('\n'));
  return staged;
}

describe('systemd units', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'units-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('pass systemd-analyze verify without a single warning', async () => {
    const units = (await readdir(UNITS)).filter((f) => /\.(service|socket|timer|path|target)$/.test(f));
    expect(units).toContain('alt-updated.service');
    for (const unit of units) {
      const staged = await stageUnit(unit, dir);
      const r = await run('systemd-analyze', ['verify', '--man=no', '--generators=no', staged]);
      expect({ unit, ...r }).toEqual({ unit, code: 0, output: '' });
    }
  });

  it('rate alt-updated.service at most 2.5 in systemd-analyze security --offline', async () => {
    const r = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', join(UNITS, 'alt-updated.service')]);
    const m = /Overall exposure level for alt-updated\.service: (\d+\.\d+)/.exec(r.output);
    expect(m, r.output).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2.5);
  });

  it('run the agent as documented: notify type, own user, restart on failure, after a good boot, not on live images', async () => {
    const text = await readFile(join(UNITS, 'alt-updated.service'), 'utf8');
    const keys = (k: string): string[] => [...text.matchAll(new RegExp(`^${k}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());
    expect(keys('Type')).toEqual(['notify']);
    expect(keys('NotifyAccess')).toEqual(['all']); // systemd-notify children send READY=1/STATUS=
    expect(keys('User')).toEqual(['alt-updated']);
    expect(keys('Restart')).toEqual(['on-failure']);
    expect(keys('RestartSec')).toEqual(['10s']);
    expect(keys('Wants').join(' ')).toContain('boot-complete.target');
    expect(keys('After').join(' ')).toContain('boot-complete.target');
    expect(keys('ConditionKernelCommandLine')).toEqual(['!rd.live.image']);
    expect(keys('ConditionPathExists')).toEqual(['/run/ostree-booted', '!/run/ostree-live']);
    expect(keys('ReadWritePaths').join(' ')).toContain('/run/alt-updated');
    // Made by systemd at each start too, not only by tmpfiles at boot, and kept across restarts.
    expect([keys('RuntimeDirectory'), keys('RuntimeDirectoryMode'), keys('RuntimeDirectoryPreserve')]).toEqual([['alt-updated'], ['0775'], ['yes']]);
  });

  it('start the agent from its own #! line with the node flags the tests use, none left to the unit', async () => {
    // The entry point runs through `/usr/bin/env -S node FLAGS` (from a link, as here, or from the
    // launcher scripts/install.sh writes with the same FLAGS); node refuses unknown or misspelt flags.
    const text = await readFile(ALT_UPDATED, 'utf8');
    expect(shebangNodeArgs(text)).toEqual(ALT_UPDATED_NODE_ARGS);
    expect(ALT_UPDATED_NODE_ARGS).toEqual(expect.arrayContaining(['--max-semi-space-size=1', '--liftoff-only', '--no-opt', '--no-sparkplug', '--expose-gc', '--compact-on-every-full-gc']));
    const unit = await readFile(join(UNITS, 'alt-updated.service'), 'utf8');
    expect(unit).not.toMatch(/^Environment=.*NODE_OPTIONS/m);
    const mode = (await stat(ALT_UPDATED)).mode & 0o7777;
    const link = join(dir, 'usr-bin-alt-updated');
    await symlink(ALT_UPDATED, link);
    await chmod(ALT_UPDATED, mode | 0o111);
    try {
      const r = await run(link, ['--help']);
      expect(r, r.output).toEqual({ code: 0, output: expect.stringMatching(/^usage: alt-updated /) });
    } finally {
      await chmod(ALT_UPDATED, mode);
    }
  });

  it('create the alt-updated user and its runtime directories in a fresh root', async () => {
    const root = join(dir, 'root');
    await mkdir(join(root, 'etc'), { recursive: true });
    for (const f of ['passwd', 'group', 'shadow', 'gshadow']) await writeFile(join(root, 'etc', f), '');
    const su = await run('systemd-sysusers', [`--root=${root}`, join(ROOT, 'systemd', 'sysusers.d', 'alt-updated.conf')]);
    expect(su.code, su.output).toBe(0);
    const passwd = await readFile(join(root, 'etc', 'passwd'), 'utf8');
    const entry = /^alt-updated:x:(\d+):(\d+):/m.exec(passwd);
    expect(entry, passwd).not.toBeNull();
    const uid = Number(entry![1]);
    expect(uid).toBeGreaterThan(0);

    const tf = await run('systemd-tmpfiles', [`--root=${root}`, '--create', join(ROOT, 'systemd', 'tmpfiles.d', 'alt-updated.conf')]);
    expect(tf, tf.output).toEqual({ code: 0, output: '' });
    const want: [string, number, number][] = [
      ['run/alt-updated', 0o775, uid],
      ['run/alt-updated/config.d', 0o775, uid],
      ['run/alt-updated/public', 0o775, uid],
      ['run/motd.d', 0o755, 0],
      ['run/motd.d/85-alt-updated-deadend.motd', 0o644, uid],
    ];
    for (const [p, mode, owner] of want) {
      const st = await stat(join(root, p));
      expect({ p, mode: st.mode & 0o777, uid: st.uid }).toEqual({ p, mode, uid: owner });
    }
  });
});
