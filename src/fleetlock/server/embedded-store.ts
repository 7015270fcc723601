// Embedded store: the journal in a state directory, owned by one process at a time (dir-lock.ts).
import { mkdir } from 'node:fs/promises';
import { FleetLockStoreError } from '../errors.js';
import { takeDirLock } from './dir-lock.js';
import { openJournal, type JournalOptions } from './journal.js';
import { EMPTY_GROUP, type GroupState } from './semaphore.js';
import { ABSENT, type StoreBackend, type Versioned } from './store.js';

/** Options for {@link openEmbeddedStore}. */
export interface EmbeddedStoreOptions extends JournalOptions {
  /** State directory; created (mode 0700) when missing. */
  readonly stateDir: string;
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
  const current = (group: string): Versioned => {
    const r = j.records.get(group);
    return r ? { state: r.state, version: String(r.seq) } : ABSENT;
  };
  return {
    engine: 'embedded',
    load: (group) => Promise.resolve(current(group)),
    async compareAndSwap(group, expected, next) {
      const cur = current(group);
      if (cur.version !== expected.version) return { ok: false, current: cur };
      if (next === null) return { ok: true, current: cur };
      const seq = await j.append(group, next);
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
