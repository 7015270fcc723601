// alt-fleetlockd verdicts and the per-group halt policy: both stores in-process (embedded journal, a
// real etcd), then the built server killed with SIGKILL and restarted, resumed through the CLI.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFleetLockAdminClient } from '../../../src/fleetlock/admin-client.js';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import { FleetLockError } from '../../../src/fleetlock/errors.js';
import { startEtcd, type EtcdCluster } from '../../helpers/etcd.js';
import { freshPrefix, group, startInProcess, type InProcess, type StoreSpec } from './harness.js';
import { runCli, spawnServer, type Spawned } from './spawn.js';

let etcd: EtcdCluster;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

const engines: { name: string; spec: () => StoreSpec }[] = [
  { name: 'embedded', spec: () => ({ engine: 'embedded' }) },
  { name: 'etcd', spec: () => ({ engine: 'etcd', endpoints: etcd.endpoints, prefix: freshPrefix() }) },
];
const K1 = { halt: { afterFailures: 1, windowMs: 3_600_000 } };
const bad = { result: 'rolled_back' as const, release: 'R2', reason: 'check sshd failed' };

async function kindOf(p: Promise<unknown>): Promise<string | null> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (err === null) return null;
  expect(err).toBeInstanceOf(FleetLockError);
  return (err as FleetLockError).kind;
}

async function scrape(url: string): Promise<string> {
  const res = await request(new URL('metrics', url));
  return res.body.text();
}

describe.each(engines)('alt-fleetlockd halt policy with the $name store', ({ spec }) => {
  let srv: InProcess | null = null;
  afterEach(async () => {
    await srv?.close();
    srv = null;
  });

  it('halts a K = 1 group on a rolled-back update: no slot for anyone, steady-state still releases, resume lifts it', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 2, K1)], adminToken: 'adm' });
    const c = createFleetLockClient({ baseUrl: srv.url });
    const admin = createFleetLockAdminClient({ baseUrl: srv.url, token: 'adm' });
    await c.preReboot({ id: 'a', group: 'default' });
    await c.preReboot({ id: 'b', group: 'default' });
    await expect(c.reportVerdict({ id: 'a', group: 'default' }, bad)).resolves.toEqual({ groupHalted: true });
    // b already holds a slot but staged the same release: it must not reboot now.
    expect(await kindOf(c.preReboot({ id: 'b', group: 'default' }))).toBe('group_halted');
    expect(await kindOf(c.preReboot({ id: 'c', group: 'default' }))).toBe('group_halted');
    await c.steadyState({ id: 'a', group: 'default' });
    expect(await scrape(srv.url)).toMatch(/^alt_fleetlockd_group_halted\{group="default"\} 1$/m);
    const g = await admin.group('default');
    expect(g).toMatchObject({ haltAfterFailures: 1, haltWindowSecs: 3600, holders: [{ id: 'b' }] });
    expect(g.halted?.reason).toMatch(/'a' rolled back on R2: check sshd failed/);
    expect(g.failures).toEqual([{ id: 'a', release: 'R2', result: 'rolled_back', reason: 'check sshd failed', reportedAt: '2026-11-28T01:30:00.000Z' }]);
    expect(await admin.resume('default')).toBe(true);
    expect(await admin.resume('default')).toBe(false);
    await c.preReboot({ id: 'c', group: 'default' });
    expect((await admin.group('default')).halted).toBeNull();
    expect(await scrape(srv.url)).toMatch(/^alt_fleetlockd_group_halted\{group="default"\} 0$/m);
    expect(srv.logs.map((r) => r.fields['event'])).toEqual(expect.arrayContaining(['verdict_failed', 'group_halted', 'group_resumed']));
    await admin.close();
  });

  it('keeps the halt across a server restart on the same store', async () => {
    const store = spec();
    const stateDir = await mkdtemp(join(tmpdir(), 'alt-fleetlockd-'));
    try {
      const first = await startInProcess({ store, stateDir, groups: [group('default', 1, K1)] });
      await createFleetLockClient({ baseUrl: first.url }).reportVerdict({ id: 'a', group: 'default' }, bad);
      await first.close();
      srv = await startInProcess({ store, stateDir, groups: [group('default', 1, K1)] });
      expect(await kindOf(createFleetLockClient({ baseUrl: srv.url }).preReboot({ id: 'b', group: 'default' }))).toBe('group_halted');
    } finally {
      await srv?.close();
      srv = null;
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('lets a Zincati-compatible client that never reports take and release slots as before, never halting', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1, K1)], adminToken: 'adm' });
    const c = createFleetLockClient({ baseUrl: srv.url });
    for (const id of ['n1', 'n2', 'n3']) {
      await c.preReboot({ id, group: 'default' });
      expect(await kindOf(c.preReboot({ id: 'other', group: 'default' }))).toBe('failed_lock_semaphore_full');
      await c.steadyState({ id, group: 'default' });
    }
    const g = await createFleetLockAdminClient({ baseUrl: srv.url, token: 'adm' }).group('default');
    expect(g).toMatchObject({ halted: null, failures: [], holders: [] });
  });

  it('counts a node and release once, and needs K failures within the window', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1, { halt: { afterFailures: 2, windowMs: 600_000 } })] });
    const c = createFleetLockClient({ baseUrl: srv.url });
    expect(await c.reportVerdict({ id: 'a', group: 'default' }, { ...bad, result: 'failed' })).toEqual({ groupHalted: false });
    expect(await c.reportVerdict({ id: 'a', group: 'default' }, bad)).toEqual({ groupHalted: false });
    srv.clock.advance(601_000);
    expect(await c.reportVerdict({ id: 'b', group: 'default' }, bad)).toEqual({ groupHalted: false });
    expect(await c.reportVerdict({ id: 'c', group: 'default' }, bad)).toEqual({ groupHalted: true });
  });
});

describe('alt-fleetlockd verdict endpoint', () => {
  let srv: InProcess;
  beforeAll(async () => {
    srv = await startInProcess({ store: { engine: 'embedded' }, groups: [group('default', 1, { token: 'gtok', ...K1 })] });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('needs the protocol header and the group token, and refuses malformed verdicts with invalid_verdict', async () => {
    const post = async (body: unknown, headers: Record<string, string>): Promise<{ status: number; kind: unknown }> => {
      const res = await request(new URL('v1/verdict', srv.url), { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: res.statusCode, kind: ((await res.body.json()) as { kind?: unknown }).kind };
    };
    const cp = { id: 'a', group: 'default' };
    const auth = { 'fleet-lock-protocol': 'true', authorization: 'Bearer gtok' };
    expect(await post({ client_params: cp, verdict: bad }, { authorization: 'Bearer gtok' })).toEqual({ status: 400, kind: 'missing_protocol_header' });
    expect(await post({ client_params: cp, verdict: bad }, { 'fleet-lock-protocol': 'true' })).toEqual({ status: 401, kind: 'unauthorized' });
    expect(await post({ client_params: cp }, auth)).toEqual({ status: 400, kind: 'invalid_body' });
    expect(await post({ client_params: cp, verdict: { ...bad, result: 'meh' } }, auth)).toEqual({ status: 400, kind: 'invalid_verdict' });
    expect(await post({ client_params: cp, verdict: { ...bad, release: '' } }, auth)).toEqual({ status: 400, kind: 'invalid_verdict' });
    expect(await post({ client_params: cp, verdict: { ...bad, reason: 'a\nb' } }, auth)).toEqual({ status: 400, kind: 'invalid_verdict' });
    expect(await post({ client_params: { id: 'a', group: 'nope' }, verdict: bad }, auth)).toEqual({ status: 404, kind: 'unknown_group' });
    // Nothing above was recorded: a healthy verdict leaves the group running.
    expect(await createFleetLockClient({ baseUrl: srv.url, token: 'gtok' }).reportVerdict(cp, { result: 'healthy', release: 'R2', reason: null })).toEqual({ groupHalted: false });
  });
});

describe('built alt-fleetlockd: a halt survives SIGKILL; alt-updatectl shows and resumes it', () => {
  let dir: string;
  let server: Spawned | null = null;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = null;
    await rm(dir, { recursive: true, force: true });
  });

  it('is still halted after a SIGKILL and restart, until fleetlock resume', async () => {
    dir = await mkdtemp(join(tmpdir(), 'alt-fleetlockd-halt-'));
    const config = join(dir, 'config.toml');
    await writeFile(
      config,
      ['listen = "127.0.0.1:0"', 'admin_token = "adm"', '[store]', `state_dir = "${join(dir, 'state')}"`, '[groups.default]', 'slots = 1', 'halt_after_failures = 1', ''].join('\n'),
      { mode: 0o600 },
    );
    server = await spawnServer(['--config', config]);
    await createFleetLockClient({ baseUrl: server.url }).reportVerdict({ id: 'a', group: 'default' }, bad);
    expect(await server.stop('SIGKILL')).toBeNull();
    server = await spawnServer(['--config', config]);
    const url = server.url;
    expect(await kindOf(createFleetLockClient({ baseUrl: url }).preReboot({ id: 'b', group: 'default' }))).toBe('group_halted');
    expect(await scrape(url)).toMatch(/^alt_fleetlockd_group_halted\{group="default"\} 1$/m);

    const lock = await runCli(['fleetlock', 'lock', '--url', url, '--id', 'b', '--group', 'default']);
    expect(lock.code).toBe(3);
    expect(lock.stderr).toContain('group_halted');
    const status = await runCli(['fleetlock', 'status', '--url', url, '--group', 'default', '--token', 'adm']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/HALTED since \S+: 1 failed or rolled-back update\(s\)/);
    expect(status.stdout).toContain('failure: a rolled back on R2');
    expect((await runCli(['fleetlock', 'resume', 'default', '--url', url])).code).toBe(1); // admin token required
    const resume = await runCli(['fleetlock', 'resume', 'default', '--url', url, '--token', 'adm']);
    expect(resume).toMatchObject({ code: 0, stdout: expect.stringContaining("resumed: group 'default'") });
    expect((await runCli(['fleetlock', 'lock', '--url', url, '--id', 'b', '--group', 'default'])).code).toBe(0);
    expect((await runCli(['fleetlock', 'resume', 'default', '--url', url, '--token', 'adm'])).stdout).toContain('not halted');
  });
});
