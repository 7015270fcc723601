// `alt-updatectl simulate` (issue 16, for operators with a config): the built CLI, run on temporary
// roots holding an agent config (and an alt-fleetlockd config), simulates 20 nodes with the strategy,
// windows and slots the configs give, says where each value came from, and fails as `config show`
// does on a bad config (the file and the key named) and as a usage error on a bad flag.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ETC, tempRoot, type Tree } from '../../unit/config/fs-tree.js';

const CLI = new URL('../../../dist/src/cli/main.js', import.meta.url).pathname;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'simulate', ...args], { timeout: 240_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});
async function root(tree: Tree): Promise<string> {
  const r = await tempRoot(tree);
  cleanups.push(r.cleanup);
  return r.root;
}

// The simulation starts on Thursday 2026-12-03 00:00 UTC; Saturday 22:00 in Moscow is Saturday 19:00 UTC.
const SAT_2200_MSK_S = (2 * 24 + 19) * 3600;

describe('alt-updatectl simulate with an operator config', () => {
  it('runs the config\'s periodic calendar in its time zone: 20 nodes reboot in the Saturday window', async () => {
    const dir = await root({
      [`${ETC}/50-updates.toml`]:
        '[updates]\nstrategy = "periodic"\n[updates.periodic]\ntime_zone = "Europe/Moscow"\n[[updates.periodic.window]]\ndays = ["Sat"]\nstart_time = "22:00"\nlength_minutes = 60\n',
    });
    const r = await cli(['--root', dir, '--nodes', '20', '--reboot-secs', '30', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, unknown> & { plan: Record<string, { value: string; source: string }> };
    expect(s).toMatchObject({ nodes: 20, strategy: 'periodic', arrived: 20, finished: true, invariants_ok: true });
    // Nobody reboots before the window opens, and everyone is done within it (plus one reboot).
    expect(s.duration_virtual_s).toBeGreaterThanOrEqual(SAT_2200_MSK_S);
    expect(s.duration_virtual_s).toBeLessThanOrEqual(SAT_2200_MSK_S + 3600 + 30);
    const file = join(dir, ETC, '50-updates.toml');
    expect(s.plan.strategy).toEqual({ value: 'periodic', source: `config ${file}: updates.strategy` });
    expect(s.plan.windows).toEqual({ value: 'Sat 22:00+60 Europe/Moscow', source: `config ${file}: updates.periodic.window, updates.periodic.time_zone` });
    expect(s.plan.nodes).toEqual({ value: '20', source: '--nodes' });
  });

  it("takes the group's slots from alt-fleetlockd's config, the poll interval from the agent's; a flag overrides the config's strategy", async () => {
    const dir = await root({
      [`${ETC}/40-lock.toml`]: '[identity]\ngroup = "workers"\n[updates]\nstrategy = "fleet_lock"\nfleet_lock.base_url = "http://lock.example:9473/"\n[agent.timing]\nstaged_interval_secs = 60\n',
    });
    const lockFile = join(dir, 'fleetlockd.toml');
    await writeFile(lockFile, '[groups.workers]\nslots = 3\n');
    const r = await cli(['--root', dir, '--lock-config', lockFile, '--nodes', '20']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}slots +3 {2}\(lock config (\S+): groups\.workers\.slots\)$/m);
    expect(r.stdout).toContain(`(lock config ${lockFile}: groups.workers.slots)`);
    expect(r.stdout).toMatch(/staged-interval-secs +60 {2}\(config \S+40-lock\.toml: agent\.timing\.staged_interval_secs\)/);
    expect(r.stdout).toMatch(/20 nodes, fleet_lock with 3 slots \(embedded store\): 20 on \S+, 0 rolled back/);
    expect(r.stdout).toMatch(/at most [123] rebooting at once/);
    expect(r.stdout).toContain('invariants: held at every step');

    const flagged = await cli(['--root', dir, '--lock-config', lockFile, '--nodes', '20', '--strategy', 'immediate', '--json']);
    expect(flagged.code).toBe(0);
    expect(JSON.parse(flagged.stdout)).toMatchObject({ strategy: 'immediate', arrived: 20, plan: { strategy: { value: 'immediate', source: '--strategy' } } });
  });

  it('fails on a bad config naming the file and the key (exit 1), on a bad flag naming the flag (exit 2)', async () => {
    const dir = await root({ [`${ETC}/60-bad.toml`]: '[updates]\nstrategy = "periodic"\n[[updates.periodic.window]]\ndays = ["Tuesady"]\nstart_time = "02:00"\nlength_minutes = 60\n' });
    const bad = await cli(['--root', dir, '--nodes', '20']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^alt-updatectl simulate: \S+: updates\.periodic\.window\[0\]\.days: expected week days .*"Tuesady"/);
    expect(bad.stderr).toContain(join(dir, ETC, '60-bad.toml'));

    const lock = await cli(['--root', await root({}), '--lock-config', join(dir, 'missing.toml')]);
    expect(lock.code).toBe(1);
    expect(lock.stderr).toContain(`${join(dir, 'missing.toml')}: cannot read: ENOENT`);

    const flag = await cli(['--root', dir, '--windows', 'Mon 02:00+99999']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('alt-updatectl simulate: --windows: "02:00+99999": entry 1: the length must be 1..10080 minutes');
  });
});
