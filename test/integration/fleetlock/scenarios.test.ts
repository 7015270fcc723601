// alt-fleetlockd protocol scenarios, run in-process (ManualClock) against both stores: the embedded
// journal and a real single-member etcd.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFleetLockAdminClient } from '../../../src/fleetlock/admin-client.js';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import { FleetLockError } from '../../../src/fleetlock/errors.js';
import { startEtcd, type EtcdCluster } from '../../helpers/etcd.js';
import { freshPrefix, group, SAT_0130, startInProcess, type InProcess, type StoreSpec } from './harness.js';

const run = promisify(execFile);
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

async function post(url: string, path: string, body: string, headers: Record<string, string> = { 'fleet-lock-protocol': 'true' }) {
  const res = await request(new URL(path, url), { method: 'POST', headers, body });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

async function failure(p: Promise<unknown>): Promise<FleetLockError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(FleetLockError);
  return err as FleetLockError;
}

describe.each(engines)('alt-fleetlockd protocol with the $name store', ({ name, spec }) => {
  let srv: InProcess | null = null;
  afterEach(async () => {
    await srv?.close();
    srv = null;
  });

  it('grants a recursive lock: the same id locks twice and holds one slot', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1)] });
    const c = createFleetLockClient({ baseUrl: srv.url });
    await c.preReboot({ id: 'a', group: 'default' });
    await c.preReboot({ id: 'a', group: 'default' });
    const hist = await srv.history('default');
    expect(hist.at(-1)).toEqual(['a']);
    await expect(failure(c.preReboot({ id: 'b', group: 'default' }))).resolves.toMatchObject({ kind: 'failed_lock_semaphore_full', status: 423 });
  });

  it('treats steady-state of a non-holder as a no-op and releases a holder', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1)] });
    const c = createFleetLockClient({ baseUrl: srv.url });
    const body = (id: string) => JSON.stringify({ client_params: { id, group: 'default' } });
    expect(await post(srv.url, 'v1/steady-state', body('nobody'))).toEqual({ status: 200, body: { result: 'not_held' } });
    await c.preReboot({ id: 'a', group: 'default' });
    expect(await post(srv.url, 'v1/steady-state', body('b'))).toEqual({ status: 200, body: { result: 'not_held' } });
    expect(await post(srv.url, 'v1/steady-state', body('a'))).toEqual({ status: 200, body: { result: 'released' } });
    await c.steadyState({ id: 'a', group: 'default' });
    await c.preReboot({ id: 'b', group: 'default' });
    expect((await srv.history('default')).at(-1)).toEqual(['b']);
  });

  it('refuses a lock when all slots are held, with the spec kind and 423', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('workers', 2)] });
    const c = createFleetLockClient({ baseUrl: srv.url });
    await c.preReboot({ id: 'a', group: 'workers' });
    await c.preReboot({ id: 'b', group: 'workers' });
    const r = await post(srv.url, 'v1/pre-reboot', JSON.stringify({ client_params: { id: 'c', group: 'workers' } }));
    expect(r.status).toBe(423);
    expect(r.body).toMatchObject({ kind: 'failed_lock_semaphore_full' });
    expect(typeof r.body?.['value']).toBe('string');
  });

  it('answers 404 unknown_group for a group the server does not configure', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1)] });
    const r = await post(srv.url, 'v1/pre-reboot', JSON.stringify({ client_params: { id: 'a', group: 'other' } }));
    expect(r).toMatchObject({ status: 404, body: { kind: 'unknown_group' } });
  });

  it('rejects a missing header, bad JSON, a bad group and a wrong method with 400/405 kinds', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1)] });
    const ok = JSON.stringify({ client_params: { id: 'a', group: 'default' } });
    expect(await post(srv.url, 'v1/pre-reboot', ok, {})).toMatchObject({ status: 400, body: { kind: 'missing_protocol_header' } });
    expect(await post(srv.url, 'v1/pre-reboot', ok, { 'fleet-lock-protocol': 'false' })).toMatchObject({ status: 400, body: { kind: 'missing_protocol_header' } });
    expect(await post(srv.url, 'v1/pre-reboot', '{not json')).toMatchObject({ status: 400, body: { kind: 'invalid_body' } });
    expect(await post(srv.url, 'v1/pre-reboot', '{"id":"a"}')).toMatchObject({ status: 400, body: { kind: 'invalid_body' } });
    const badGroup = JSON.stringify({ client_params: { id: 'a', group: 'bad group!' } });
    expect(await post(srv.url, 'v1/steady-state', badGroup)).toMatchObject({ status: 400, body: { kind: 'invalid_client_params' } });
    const noId = JSON.stringify({ client_params: { id: '', group: 'default' } });
    expect(await post(srv.url, 'v1/pre-reboot', noId)).toMatchObject({ status: 400, body: { kind: 'invalid_client_params' } });
    expect(await post(srv.url, 'v1/pre-reboot', 'x'.repeat(70_000))).toMatchObject({ status: 413, body: { kind: 'body_too_large' } });
    const bad = await request(new URL('admin/v1/groups/%zz', srv.url));
    expect(bad.statusCode).toBe(404);
    await bad.body.dump();
    const get = await request(new URL('v1/pre-reboot', srv.url), { headers: { 'fleet-lock-protocol': 'true' } });
    expect(get.statusCode).toBe(405);
    expect(await get.body.json()).toMatchObject({ kind: 'method_not_allowed' });
    expect(await srv.history('default')).toEqual([]);
  });

  it('rejects ids that are not valid UTF-8 instead of merging them into one holder', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1)] });
    // "node-\xff" and "node-\xfe" would both decode to "node-\ufffd": two machines, one slot.
    const raw = (b: number) => Buffer.concat([Buffer.from('{"client_params":{"id":"node-'), Buffer.from([b]), Buffer.from('","group":"default"}}')]);
    for (const b of [0xff, 0xfe]) {
      const res = await request(new URL('v1/pre-reboot', srv.url), { method: 'POST', headers: { 'fleet-lock-protocol': 'true' }, body: raw(b) });
      expect({ status: res.statusCode, body: await res.body.json() }).toMatchObject({ status: 400, body: { kind: 'invalid_body', value: expect.stringContaining('UTF-8') as string } });
    }
    // The JSON escape of a lone surrogate would meet the same fate in the store's UTF-8 encoding.
    for (const id of ['node-\\udcff', 'node-\\udcfe', ' node-1', 'node-1 ', 'node-\\u0085']) {
      const r = await post(srv.url, 'v1/pre-reboot', `{"client_params":{"id":"${id}","group":"default"}}`);
      expect(r).toMatchObject({ status: 400, body: { kind: 'invalid_client_params' } });
    }
    expect(await srv.history('default')).toEqual([]);
  });

  it('requires the group token as a bearer token (or HTTP Basic password) when one is configured', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('secure', 1, { token: 's3cret-token' })] });
    const params = { id: 'a', group: 'secure' };
    await expect(failure(createFleetLockClient({ baseUrl: srv.url }).preReboot(params))).resolves.toMatchObject({ kind: 'unauthorized', status: 401 });
    await expect(failure(createFleetLockClient({ baseUrl: srv.url, token: 'wrong' }).preReboot(params))).resolves.toMatchObject({ kind: 'unauthorized' });
    await createFleetLockClient({ baseUrl: srv.url, token: 's3cret-token' }).preReboot(params);
    const basic = `Basic ${Buffer.from('node:s3cret-token').toString('base64')}`;
    const r = await post(srv.url, 'v1/steady-state', JSON.stringify({ client_params: params }), { 'fleet-lock-protocol': 'true', authorization: basic });
    expect(r).toEqual({ status: 200, body: { result: 'released' } });
  });

  // Driven by the injected clock, so embedded only: etcd expires holders by lease, in real time
  // (stale-expiry.test.ts covers both).
  it.runIf(name === 'embedded')('releases a holder that neither renews nor unlocks within the stale expiry, and logs and counts it', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1, { staleAfterMs: 600_000 })] });
    const c = createFleetLockClient({ baseUrl: srv.url });
    await c.preReboot({ id: 'a', group: 'default' });
    srv.clock.advance(500_000);
    await c.preReboot({ id: 'a', group: 'default' }); // renewal
    srv.clock.advance(500_000);
    await expect(failure(c.preReboot({ id: 'b', group: 'default' }))).resolves.toMatchObject({ kind: 'failed_lock_semaphore_full' });
    srv.clock.advance(100_001);
    await c.preReboot({ id: 'b', group: 'default' });
    expect((await srv.history('default')).at(-1)).toEqual(['b']);
    expect(srv.logs.filter((r) => r.fields['event'] === 'lock_expired').map((r) => r.fields['id'])).toEqual(['a']);
    // The periodic sweep releases without any request.
    srv.clock.advance(600_001);
    expect(await srv.service.sweep()).toBe(1);
    expect((await srv.history('default')).at(-1)).toEqual([]);
    const metrics = await (await request(new URL('metrics', srv.url))).body.text();
    expect(metrics).toContain('alt_fleetlockd_locks_expired_total{group="default"} 2');
  });

  it.runIf(name === 'embedded')('releases stale holders from the background sweeper as the injected clock advances', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1, { staleAfterMs: 60_000 })] });
    await createFleetLockClient({ baseUrl: srv.url }).preReboot({ id: 'a', group: 'default' });
    const stop = new AbortController();
    const sweeper = srv.service.runSweeper(stop.signal);
    try {
      const expiredLogs = () => srv!.logs.filter((r) => r.fields['event'] === 'lock_expired');
      const settle = async (): Promise<void> => {
        for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 10));
      };
      srv.clock.advance(30_000); // a sweep at idle 30 s: kept
      await settle();
      srv.clock.advance(30_000); // idle 60 s: not past the 60 s expiry yet
      await settle();
      expect(expiredLogs()).toHaveLength(0);
      expect((await srv.history('default')).at(-1)).toEqual(['a']);
      srv.clock.advance(30_000); // idle 90 s: released without any request
      for (let i = 0; i < 3000 && expiredLogs().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(expiredLogs().map((r) => r.fields['id'])).toEqual(['a']);
      expect((await srv.history('default')).at(-1)).toEqual([]);
    } finally {
      stop.abort();
      await sweeper;
    }
  });

  it('refuses pre-reboot outside the group maintenance window but always allows steady-state', async () => {
    const windows = [{ days: ['Sat' as const], startMinutes: 60, lengthMinutes: 60 }];
    srv = await startInProcess({ store: spec(), groups: [group('default', 1, { windows })], startMs: SAT_0130 });
    const c = createFleetLockClient({ baseUrl: srv.url });
    await c.preReboot({ id: 'a', group: 'default' });
    srv.clock.advance(31 * 60_000); // 02:01
    const err = await failure(c.preReboot({ id: 'b', group: 'default' }));
    expect(err).toMatchObject({ kind: 'outside_maintenance_window', status: 409 });
    await c.steadyState({ id: 'a', group: 'default' });
    srv.clock.advance(7 * 24 * 3600_000 - 31 * 60_000); // next Saturday 01:30
    await c.preReboot({ id: 'b', group: 'default' });
  });

  it('lists groups, holders and lock times on the admin API and force-releases a holder', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 2, { token: 'grp' }), group('db', 1)], adminToken: 'adm' });
    await createFleetLockClient({ baseUrl: srv.url, token: 'grp' }).preReboot({ id: 'n1', group: 'default' });
    const admin = createFleetLockAdminClient({ baseUrl: srv.url, token: 'adm' });
    const groups = await admin.listGroups();
    expect(groups.map((g) => [g.name, g.slots, g.holders.map((h) => h.id)])).toEqual([
      ['db', 1, []],
      ['default', 2, ['n1']],
    ]);
    expect(groups[1]!.holders[0]!.lockedAt).toBe(new Date(SAT_0130).toISOString());
    // The group's own token may read its group, not list all groups or release.
    const asGroup = createFleetLockAdminClient({ baseUrl: srv.url, token: 'grp' });
    expect((await asGroup.group('default')).holders.map((h) => h.id)).toEqual(['n1']);
    await expect(failure(asGroup.listGroups())).resolves.toMatchObject({ kind: 'unauthorized', status: 401 });
    await expect(failure(asGroup.release('default', 'n1'))).resolves.toMatchObject({ kind: 'unauthorized' });
    expect(await admin.release('default', 'n1')).toBe(true);
    expect(await admin.release('default', 'n1')).toBe(false);
    expect((await admin.group('default')).holders).toEqual([]);
    expect(srv.logs.some((r) => r.fields['event'] === 'lock_force_released')).toBe(true);
  });

  it('serves /metrics that promtool accepts, with slots, holders and errors by kind, and /healthz', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 2)] });
    const c = createFleetLockClient({ baseUrl: srv.url });
    await c.preReboot({ id: 'a', group: 'default' });
    await failure(createFleetLockClient({ baseUrl: srv.url }).preReboot({ id: 'x', group: 'nope' }));
    const text = await (await request(new URL('metrics', srv.url))).body.text();
    expect(text).toContain('alt_fleetlockd_lock_slots{group="default"} 2');
    expect(text).toContain('alt_fleetlockd_lock_holders{group="default"} 1');
    expect(text).toContain('alt_fleetlockd_lock_oldest_hold_seconds{group="default"} 0');
    expect(text).toContain('alt_fleetlockd_requests_total{api="pre-reboot"} 2');
    expect(text).toContain('alt_fleetlockd_errors_total{api="pre-reboot",kind="unknown_group"} 1');
    const dir = await mkdtemp(join(tmpdir(), 'promtool-'));
    try {
      await writeFile(join(dir, 'm.txt'), text);
      const { stdout, stderr } = await run('sh', ['-c', `promtool check metrics < ${join(dir, 'm.txt')}`]);
      expect(stdout + stderr).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // The slot's age counts on the server's clock from the grant.
    srv.clock.advance(90_000);
    expect(await (await request(new URL('metrics', srv.url))).body.text()).toContain('alt_fleetlockd_lock_oldest_hold_seconds{group="default"} 90');
    const health = await request(new URL('healthz', srv.url));
    expect(health.statusCode).toBe(200);
    expect(await health.body.text()).toMatch(/^ok /);
  });

  it('applies a changed slot count on reload', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 1)] });
    const c = createFleetLockClient({ baseUrl: srv.url });
    await c.preReboot({ id: 'a', group: 'default' });
    await failure(c.preReboot({ id: 'b', group: 'default' }));
    srv.service.reload({ ...srv.config, groups: new Map([['default', group('default', 2)]]) });
    await c.preReboot({ id: 'b', group: 'default' });
    await expect(failure(c.preReboot({ id: 'c', group: 'default' }))).resolves.toMatchObject({ kind: 'failed_lock_semaphore_full' });
  });

  it('never has more than 2 holders when 500 concurrent clients compete for 2 slots', async () => {
    srv = await startInProcess({ store: spec(), groups: [group('default', 2)] });
    const dispatcher = new Agent({ connections: 500 });
    try {
      const c = createFleetLockClient({ baseUrl: srv.url, dispatcher });
      const ids = Array.from({ length: 500 }, (_, i) => `node-${i}`);
      let contenders = ids;
      const winners: string[] = [];
      for (let round = 0; round < 3; round++) {
        const results = await Promise.allSettled(contenders.map((id) => c.preReboot({ id, group: 'default' })));
        const won = contenders.filter((_, i) => results[i]!.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected').map((r) => (r.reason as FleetLockError).kind);
        expect(won).toHaveLength(2);
        expect(new Set(lost)).toEqual(new Set(['failed_lock_semaphore_full']));
        expect([...(await srv.history('default')).at(-1)!].sort()).toEqual([...won].sort());
        winners.push(...won);
        await Promise.all(won.map((id) => c.steadyState({ id, group: 'default' })));
        contenders = contenders.filter((id) => !won.includes(id));
      }
      expect(new Set(winners).size).toBe(6);
      const hist = await srv.history('default');
      expect(hist.length).toBeGreaterThanOrEqual(6);
      expect(Math.max(...hist.map((h) => h.length))).toBeLessThanOrEqual(2);
    } finally {
      await dispatcher.close();
    }
  });
});
