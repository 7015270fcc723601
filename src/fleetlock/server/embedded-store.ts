// Embedded store: the journal in a state directory, owned by one process at a time (dir-lock.ts).
// Holders' idle times are measured in this process with monotonic time, never from the journal's
// wall-clock stamps, so a clock step cannot expire anyone; after a restart every holder starts a
// fresh stale timer (monotonic time does not survive the process), which errs towards keeping locks.
import { mkdir } from 'node:fs/promises';
import { FleetLockStoreError } from '../errors.js';
import { takeDirLock } from './dir-lock.js';
import { openJournal, type JournalOptions } from './journal.js';
import { EMPTY_GROUP, type GroupState, type IdleFacts } from './semaphore.js';
import { ABSENT, type StoreBackend, type Versioned } from './store.js';

/** Options for {@link openEmbeddedStore}. */
export interface EmbeddedStoreOptions extends JournalOptions {
  /** State directory; created (mode 0700) when missing. */
  readonly stateDir: string;
  /** Monotonic time source for holders' idle times (the injected clock's `monotonicMs`). */
  readonly monotonicMs: () => number;
}

/** Opens the embedded store: takes the directory's lock, then replays the journal. */
export async function openEmbeddedStore(opts: EmbeddedStoreOptions): Promise<StoreBackend> {
  try {
    await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
  } catch (err: unknown) {
    throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `cannot create state directory ${opts.stateDir}`, { cause: err });
  }
  const lock = await takeDirLock(opts.stateDir);
  let journal;
  try {
    journal = await openJournal(opts.stateDir, opts);
  } catch (err: unknown) {
    await lock.release();
    throw err;
  }
  const j = journal;
  // group -> holder id -> monotonic time of its last lock or renewal.
  const renewed = new Map<string, Map<string, number>>();
  const opened = opts.monotonicMs();
  const timers = (group: string): Map<string, number> => {
    let m = renewed.get(group);
    if (!m) {
      m = new Map((j.records.get(group)?.state.holders ?? []).map((h) => [h.id, opened]));
      renewed.set(group, m);
    }
    return m;
  };
  const current = (group: string): Versioned => {
    const r = j.records.get(group);
    return r ? { state: r.state, version: String(r.seq) } : ABSENT;
  };
  return {
    engine: 'embedded',
    load: (group) => Promise.resolve(current(group)),
    idle(group, cur) {
      const now = opts.monotonicMs();
      const t = timers(group);
      const out = new Map<string, number>();
      for (const h of cur.state.holders) out.set(h.id, now - (t.get(h.id) ?? opened));
      return Promise.resolve(out as IdleFacts);
    },
    async compareAndSwap(group, expected, next, touched) {
      const cur = current(group);
      if (cur.version !== expected.version) return { ok: false, current: cur };
      if (next === null) return { ok: true, current: cur };
      const t = timers(group);
      const seq = await j.append(group, next);
      const now = opts.monotonicMs();
      for (const id of touched.keys()) t.set(id, now);
      const keep = new Set(next.holders.map((h) => h.id));
      for (const id of [...t.keys()]) if (!keep.has(id)) t.delete(id);
      return { ok: true, current: { state: next, version: String(seq) } };
    },
    loadAll() {
      const out = new Map<string, GroupState>();
      for (const [g, r] of j.records) out.set(g, r.state ?? EMPTY_GROUP);
      return Promise.resolve(out);
    },
    health() {
      const f = j.failure();
      return f ? Promise.reject(f) : Promise.resolve();
    },
    async close() {
      await j.close();
      await lock.release();
    },
  };
}
