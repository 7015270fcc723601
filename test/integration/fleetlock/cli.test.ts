// `alt-updatectl fleetlock` (built dist/) against an in-process alt-fleetlockd.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { group, startInProcess, type InProcess } from './harness.js';
import { runCli } from './spawn.js';

// machine-id -> app-specific id for Zincati's app id (vector from shared/reference/zincati-behaviour.md §4).
const MACHINE_ID = '2e074e9b299c41a59923c51ae16f279b';
const NODE_ID = '074c268827d74fb59ed758e8940cd667';

describe('alt-updatectl fleetlock', () => {
  let srv: InProcess;
  let root: string;
  beforeEach(async () => {
    srv = await startInProcess({ store: { engine: 'embedded' }, groups: [group('default', 1), group('workers', 1, { token: 'wtok' })], adminToken: 'adm' });
    root = await mkdtemp(join(tmpdir(), 'fleetlock-cli-'));
    await mkdir(join(root, 'etc'), { recursive: true });
    await writeFile(join(root, 'etc/machine-id'), `${MACHINE_ID}\n`);
  });
  afterEach(async () => {
    await srv.close();
    await rm(root, { recursive: true, force: true });
  });

  it('locks with the node id derived from the machine id, exits 3 when the slot is taken, and unlocks', async () => {
    const lock = await runCli(['fleetlock', 'lock', '--url', srv.url, '--root', root]);
    expect(lock).toMatchObject({ code: 0 });
    expect(lock.stdout).toContain(`'${NODE_ID}' holds a slot in group 'default'`);
    expect((await srv.history('default')).at(-1)).toEqual([NODE_ID]);
    const other = await runCli(['fleetlock', 'lock', '--url', srv.url, '--id', 'other', '--group', 'default']);
    expect(other.code).toBe(3);
    expect(other.stderr).toContain('failed_lock_semaphore_full');
    expect((await runCli(['fleetlock', 'unlock', '--url', srv.url, '--root', root])).code).toBe(0);
    expect((await srv.history('default')).at(-1)).toEqual([]);
  });

  it('sends the group token from --token or $ALT_FLEETLOCK_TOKEN and fails with exit 1 without it', async () => {
    const noToken = await runCli(['fleetlock', 'lock', '--url', srv.url, '--id', 'n1', '--group', 'workers']);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('unauthorized');
    expect((await runCli(['fleetlock', 'lock', '--url', srv.url, '--id', 'n1', '--group', 'workers'], { ALT_FLEETLOCK_TOKEN: 'wtok' })).code).toBe(0);
    expect((await runCli(['fleetlock', 'unlock', '--url', srv.url, '--id', 'n1', '--group', 'workers', '--token', 'wtok'])).code).toBe(0);
  });

  it('shows holders with lock times on status and force-releases with release', async () => {
    await runCli(['fleetlock', 'lock', '--url', srv.url, '--id', 'n1', '--group', 'default']);
    const status = await runCli(['fleetlock', 'status', '--url', srv.url, '--group', 'default', '--token', 'adm']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('group default: 1/1 slots held');
    expect(status.stdout).toMatch(/n1 {2}locked 2026-11-28T01:30:00\.000Z/);
    const json = await runCli(['fleetlock', 'status', '--url', srv.url, '--token', 'adm', '--json']);
    expect((JSON.parse(json.stdout) as { name: string }[]).map((g) => g.name)).toEqual(['default', 'workers']);
    expect((await runCli(['fleetlock', 'status', '--url', srv.url, '--group', 'default'])).code).toBe(1);
    const rel = await runCli(['fleetlock', 'release', '--url', srv.url, '--group', 'default', '--id', 'n1', '--token', 'adm']);
    expect(rel).toMatchObject({ code: 0 });
    expect((await srv.history('default')).at(-1)).toEqual([]);
  });

  it('waits with --wait until the slot is free, then takes it', async () => {
    await runCli(['fleetlock', 'lock', '--url', srv.url, '--id', 'holder', '--group', 'default']);
    const waiting = runCli(['fleetlock', 'lock', '--url', srv.url, '--id', 'waiter', '--group', 'default', '--wait', '--retry-secs', '0.2', '--timeout-secs', '60']);
    const refused = () => srv.logs.some((l) => l.fields['id'] === 'waiter' && l.msg.startsWith('lock refused'));
    for (let i = 0; i < 1500 && !refused(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(refused()).toBe(true);
    expect((await runCli(['fleetlock', 'unlock', '--url', srv.url, '--id', 'holder', '--group', 'default'])).code).toBe(0);
    const r = await waiting;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('retrying in 0.2s');
    expect((await srv.history('default')).at(-1)).toEqual(['waiter']);
  });

  it('exits 2 on bad usage', async () => {
    expect((await runCli(['fleetlock'])).code).toBe(2);
    expect((await runCli(['fleetlock', 'grab', '--url', srv.url])).code).toBe(2);
    expect((await runCli(['fleetlock', 'lock', '--url', srv.url, '--group', 'bad group', '--id', 'x'])).code).toBe(2);
  });
});
