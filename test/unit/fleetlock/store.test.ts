import { describe, expect, it } from 'vitest';
import { FleetLockStoreError } from '../../../src/fleetlock/errors.js';
import { EMPTY_GROUP, NOT_IDLE, recursiveLock, unlockIfHeld, type GroupState, type IdleFacts } from '../../../src/fleetlock/server/semaphore.js';
import { createLockStore, type StoreBackend, type Versioned } from '../../../src/fleetlock/server/store.js';

/**
 * In-memory versioned backend for tests; `rivalWrites` makes the next N compare-and-swaps lose to a
 * simulated other server that adds a holder, as another alt-fleetlockd on the same etcd would.
 */
function memoryBackendForTest(opts: { rivalWrites?: number; failLoads?: number } = {}) {
  const data = new Map<string, Versioned>();
  let rival = opts.rivalWrites ?? 0;
  let failLoads = opts.failLoads ?? 0;
  let version = 0;
  const calls = { load: 0, cas: 0, writes: 0 };
  const cur = (g: string): Versioned => data.get(g) ?? { state: EMPTY_GROUP, version: null };
  const backend: StoreBackend = {
    engine: 'embedded',
    load(g) {
      calls.load += 1;
      if (failLoads > 0) {
        failLoads -= 1;
        return Promise.reject(new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', 'down'));
      }
      return Promise.resolve(cur(g));
    },
    compareAndSwap(g, expected, next) {
      calls.cas += 1;
      if (rival > 0) {
        rival -= 1;
        const s = cur(g).state;
        data.set(g, { state: { holders: [...s.holders, { id: `rival${rival}`, sinceMs: 0, renewedMs: 0 }] }, version: String(++version) });
      }
      const c = cur(g);
      if (c.version !== expected.version) return Promise.resolve({ ok: false, current: c });
      if (next === null) return Promise.resolve({ ok: true, current: c });
      calls.writes += 1;
      const v = { state: next, version: String(++version) };
      data.set(g, v);
      return Promise.resolve({ ok: true, current: v });
    },
    idle: () => Promise.resolve(NOT_IDLE),
    loadAll: () => Promise.resolve(new Map([...data].map(([g, v]) => [g, v.state]))),
    health: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { backend, calls, data };
}

const lock = (id: string, slots = 2) => (s: GroupState, idle: IdleFacts) => recursiveLock(s, id, { slots, staleAfterMs: null }, 1, idle);
const unlock = (id: string) => (s: GroupState, idle: IdleFacts) => unlockIfHeld(s, id, { slots: 2, staleAfterMs: null }, idle);

describe('src/fleetlock/server/store createLockStore', () => {
  it('commits requests queued during a write as one batch, in arrival order', async () => {
    const { backend, calls, data } = memoryBackendForTest();
    const store = createLockStore(backend);
    const outcomes = await Promise.all(['a', 'b', 'c', 'd'].map((id) => store.mutate('g', lock(id)).then((r) => r.outcome)));
    expect(outcomes).toEqual(['acquired', 'acquired', 'full', 'full']);
    expect(calls.writes).toBe(1);
    expect(data.get('g')!.state.holders.map((h) => h.id)).toEqual(['a', 'b']);
  });

  it('re-applies a batch to the winner state after losing a compare-and-swap', async () => {
    const { backend, calls, data } = memoryBackendForTest({ rivalWrites: 1 });
    const store = createLockStore(backend);
    const [a, b] = await Promise.all([store.mutate('g', lock('a')), store.mutate('g', lock('b'))]);
    expect(a.outcome).toBe('acquired');
    expect(b.outcome).toBe('full'); // the rival took the second slot
    expect(data.get('g')!.state.holders.map((h) => h.id).sort()).toEqual(['a', 'rival0']);
    expect(calls.cas).toBe(2);
  });

  it('confirms even a no-change outcome against the stored version (a stale cache cannot answer)', async () => {
    const { backend, data } = memoryBackendForTest();
    const store = createLockStore(backend);
    await store.mutate('g', lock('a'));
    // Another server releases 'a' and 'b' takes it behind this store's back.
    data.set('g', { state: { holders: [{ id: 'b', sinceMs: 2, renewedMs: 2 }] }, version: '99' });
    expect((await store.mutate('g', lock('c', 1))).outcome).toBe('full');
    expect((await store.mutate('g', unlock('b'))).outcome).toBe('released');
  });

  it('fails a batch after too many conflicts, and recovers with a fresh read afterwards', async () => {
    const { backend } = memoryBackendForTest({ rivalWrites: 3 });
    const store = createLockStore(backend, { maxConflicts: 3 });
    await expect(store.mutate('g', lock('a', 10))).rejects.toMatchObject({ code: 'FLEETLOCKD_STORE_CONFLICT' });
    expect((await store.mutate('g', lock('a', 10))).outcome).toBe('acquired');
  });

  it('rejects the batch when the backend fails and serves the next one', async () => {
    const { backend } = memoryBackendForTest({ failLoads: 1 });
    const store = createLockStore(backend);
    await expect(store.mutate('g', lock('a'))).rejects.toMatchObject({ code: 'FLEETLOCKD_STORE_UNAVAILABLE' });
    expect((await store.mutate('g', lock('a'))).outcome).toBe('acquired');
  });

  it('commits at most maxBatch queued requests per write', async () => {
    const { backend, calls } = memoryBackendForTest();
    const store = createLockStore(backend, { maxBatch: 100 });
    const ids = Array.from({ length: 250 }, (_, i) => `n${i}`);
    const outcomes = await Promise.all(ids.map((id) => store.mutate('g', lock(id, 300)).then((r) => r.outcome)));
    expect(new Set(outcomes)).toEqual(new Set(['acquired']));
    expect(calls.writes).toBe(3);
  });

  it('refuses mutations after close', async () => {
    const { backend } = memoryBackendForTest();
    const store = createLockStore(backend);
    await store.close();
    await expect(store.mutate('g', lock('a'))).rejects.toMatchObject({ code: 'FLEETLOCKD_STORE_UNAVAILABLE' });
  });
});
