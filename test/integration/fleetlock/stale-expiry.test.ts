// Stale-lock expiry must not trust the wall clock: a forward jump (NTP step, a skewed host, two
// servers with different clocks on one etcd) must never expire a live holder, nor let more than
// `slots` nodes hold the lock. The embedded store measures idleness with monotonic time; the etcd
// store lets etcd expire holders by lease (server-side TTL).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import { FleetLockError } from '../../../src/fleetlock/errors.js';
import { createEtcdGateway } from '../../../src/fleetlock/server/etcd-gateway.js';
import { leaseKeyPrefix, openEtcdStore } from '../../../src/fleetlock/server/etcd-store.js';
import { expireStale, recursiveLock } from '../../../src/fleetlock/server/semaphore.js';
import { createLockStore } from '../../../src/fleetlock/server/store.js';
import { startEtcd, type EtcdCluster } from '../../helpers/etcd.js';
import { freshPrefix, group, SAT_0130, startInProcess, type InProcess, type StoreSpec } from './harness.js';

const DAY = 86_400_000;
const STALE_MS = 2000;
let etcd: EtcdCluster;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

const servers: InProcess[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function start(opts: Parameters<typeof startInProcess>[0]): Promise<InProcess> {
  const s = await startInProcess(opts);
  servers.push(s);
  return s;
}

const kindOf = (p: Promise<unknown>): Promise<string | null> => p.then(() => null, (e: unknown) => (e instanceof FleetLockError ? e.kind : String(e)));

/**
 * Retries `id`'s pre-reboot until granted (etcd expires leases in real time) or the deadline passes;
 * `meanwhile` runs before each attempt (a live holder renewing).
 */
async function lockEventually(url: string, id: string, meanwhile: () => Promise<unknown> = () => Promise.resolve()): Promise<void> {
  const c = createFleetLockClient({ baseUrl: url });
  const until = Date.now() + 15_000;
  for (;;) {
    await meanwhile();
    const kind = await kindOf(c.preReboot({ id, group: 'default' }));
    if (kind === null) return;
    if (kind !== 'failed_lock_semaphore_full' || Date.now() > until) throw new Error(`'${id}' not granted: ${kind}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each([
  { name: 'embedded', spec: (): StoreSpec => ({ engine: 'embedded' }) },
  { name: 'etcd', spec: (): StoreSpec => ({ engine: 'etcd', endpoints: etcd.endpoints, prefix: freshPrefix() }) },
])('stale-lock expiry with the $name store', ({ spec }) => {
  it('expires no holder early when the wall clock jumps a day forward, and never grants more than the slots', async () => {
    const srv = await start({ store: spec(), groups: [group('default', 2, { staleAfterMs: STALE_MS })] });
    const c = createFleetLockClient({ baseUrl: srv.url });
    await c.preReboot({ id: 'a', group: 'default' });
    await c.preReboot({ id: 'b', group: 'default' });
    srv.clock.jumpWall(DAY);
    expect(await kindOf(c.preReboot({ id: 'c', group: 'default' }))).toBe('failed_lock_semaphore_full');
    expect(await srv.service.sweep()).toBe(0);
    expect(await kindOf(c.preReboot({ id: 'd', group: 'default' }))).toBe('failed_lock_semaphore_full');
    expect((await srv.history('default')).at(-1)).toEqual(['a', 'b']);
    // A holder that really is gone for the stale time still loses its slot.
    await c.preReboot({ id: 'a', group: 'default' }); // a renews, b does not
    srv.clock.advance(STALE_MS - 500);
    await c.preReboot({ id: 'a', group: 'default' });
    srv.clock.advance(1000);
    await lockEventually(srv.url, 'c', () => c.preReboot({ id: 'a', group: 'default' }));
    const hist = await srv.history('default');
    expect(hist.at(-1)).toEqual(['a', 'c']);
    expect(Math.max(...hist.map((h) => h.length))).toBeLessThanOrEqual(2);
    expect(srv.logs.filter((r) => r.fields['event'] === 'lock_expired').map((r) => r.fields['id'])).toEqual(['b']);
  });
});

describe('stale-lock expiry with the etcd store', () => {
  it('the sweep releases a holder whose lease etcd expired, and logs and counts it', async () => {
    const srv = await start({ store: { engine: 'etcd', endpoints: etcd.endpoints, prefix: freshPrefix() }, groups: [group('default', 1, { staleAfterMs: 1000 })] });
    await createFleetLockClient({ baseUrl: srv.url }).preReboot({ id: 'a', group: 'default' });
    expect(await srv.service.sweep()).toBe(0);
    const until = Date.now() + 15_000;
    let released = 0;
    while (released === 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      released = await srv.service.sweep();
    }
    expect(released).toBe(1);
    expect((await srv.history('default')).at(-1)).toEqual([]);
    expect(srv.logs.filter((r) => r.fields['event'] === 'lock_expired').map((r) => r.fields['id'])).toEqual(['a']);
    const metrics = await (await fetch(new URL('metrics', srv.url))).text();
    expect(metrics).toContain('alt_fleetlockd_locks_expired_total{group="default"} 1');
  });

  it('a renewal restarts the lease, and an unlock deletes it', async () => {
    const prefix = freshPrefix();
    const srv = await start({ store: { engine: 'etcd', endpoints: etcd.endpoints, prefix }, groups: [group('default', 1, { staleAfterMs: STALE_MS })] });
    const c = createFleetLockClient({ baseUrl: srv.url });
    await c.preReboot({ id: 'a', group: 'default' });
    // Renewing every 0.5 s for longer than the 2 s TTL keeps the slot.
    const until = Date.now() + 3 * STALE_MS;
    while (Date.now() < until) {
      await c.preReboot({ id: 'a', group: 'default' });
      expect(await kindOf(c.preReboot({ id: 'b', group: 'default' }))).toBe('failed_lock_semaphore_full');
      await new Promise((r) => setTimeout(r, 500));
    }
    await c.steadyState({ id: 'a', group: 'default' });
    await c.preReboot({ id: 'b', group: 'default' });
    expect(srv.logs.filter((r) => r.fields['event'] === 'lock_expired')).toEqual([]);
    const gw = createEtcdGateway({ endpoints: etcd.endpoints });
    try {
      const keys = (await gw.range(leaseKeyPrefix(prefix, 'default'), { prefix: true })).map((kv) => kv.key);
      expect(keys).toEqual([`${leaseKeyPrefix(prefix, 'default')}b`]);
    } finally {
      await gw.close();
    }
  });
});

describe('stale-lock expiry with many holders on etcd', () => {
  it('commits 200 locks queued at once and expires all 200 (etcd allows 128 operations per transaction)', async () => {
    const store = createLockStore(await openEtcdStore({ endpoints: etcd.endpoints, prefix: freshPrefix() }));
    try {
      const policy = { slots: 300, staleAfterMs: 1000 };
      const ids = Array.from({ length: 200 }, (_, i) => `node-${i}`);
      // Queued in one tick: without a batch limit they would be one transaction of 200 lease puts.
      const outcomes = await Promise.all(ids.map((id) => store.mutate('default', (s, idle) => recursiveLock(s, id, policy, 0, idle))));
      expect(new Set(outcomes.map((o) => o.outcome))).toEqual(new Set(['acquired']));
      let expired = 0;
      const until = Date.now() + 15_000;
      while (expired < 200 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        expired += (await store.mutate('default', (s, idle) => expireStale(s, policy, idle))).expired.length;
      }
      expect(expired).toBe(200);
      expect((await store.readAll()).get('default')?.holders).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('stale-lock expiry with servers sharing one etcd', () => {
  it('a server whose clock is a day ahead expires nothing that another server granted', async () => {
    const store: StoreSpec = { engine: 'etcd', endpoints: etcd.endpoints, prefix: freshPrefix() };
    const groups = [group('default', 1, { staleAfterMs: 60_000 })];
    const a = await start({ store, groups, startMs: SAT_0130 });
    const ahead = await start({ store, groups, clock: new ManualClock(SAT_0130 + DAY) });
    await createFleetLockClient({ baseUrl: a.url }).preReboot({ id: 'n1', group: 'default' });
    expect(await kindOf(createFleetLockClient({ baseUrl: ahead.url }).preReboot({ id: 'n2', group: 'default' }))).toBe('failed_lock_semaphore_full');
    expect(await ahead.service.sweep()).toBe(0);
    expect((await ahead.history('default')).at(-1)).toEqual(['n1']);
  });

  it('a holder gone for the stale time loses its slot even while no server runs, and a restart does not reset that', async () => {
    const store: StoreSpec = { engine: 'etcd', endpoints: etcd.endpoints, prefix: freshPrefix() };
    const groups = [group('default', 1, { staleAfterMs: STALE_MS })];
    const first = await start({ store, groups });
    await createFleetLockClient({ baseUrl: first.url }).preReboot({ id: 'n1', group: 'default' });
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    const second = await start({ store, groups });
    // The new server's clock has not moved at all: only etcd's lease can release n1.
    await lockEventually(second.url, 'n2');
    expect((await second.history('default')).at(-1)).toEqual(['n2']);
  });
});

describe('stale-lock expiry with the embedded store across a restart', () => {
  it('gives every holder a fresh stale timer on start (monotonic time does not survive the process)', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'fleetlockd-restart-'));
    onTestFinished(() => rm(stateDir, { recursive: true, force: true }));
    const first = await start({ store: { engine: 'embedded' }, groups: [group('default', 1, { staleAfterMs: 600_000 })], stateDir });
    await createFleetLockClient({ baseUrl: first.url }).preReboot({ id: 'n1', group: 'default' });
    first.clock.advance(500_000);
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    const second = await start({ store: { engine: 'embedded' }, groups: [group('default', 1, { staleAfterMs: 600_000 })], stateDir });
    const c = createFleetLockClient({ baseUrl: second.url });
    second.clock.advance(500_000);
    expect(await kindOf(c.preReboot({ id: 'n2', group: 'default' }))).toBe('failed_lock_semaphore_full');
    second.clock.advance(100_001);
    await c.preReboot({ id: 'n2', group: 'default' });
  });
});
