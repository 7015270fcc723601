// Embedded store: the journal in a state directory, owned by one process at a time (pid lock file).
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FleetLockStoreError } from '../errors.js';
import { openJournal, type JournalOptions } from './journal.js';
import { EMPTY_GROUP, type GroupState } from './semaphore.js';
import { ABSENT, type StoreBackend, type Versioned } from './store.js';

/** The pid lock file's name inside the state directory. */
export const PID_FILE = 'alt-fleetlockd.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function takePidLock(dir: string): Promise<string> {
  const path = join(dir, PID_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return path;
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `cannot create ${path}`, { cause: err });
      }
    }
    const pid = Number.parseInt((await readFile(path, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `state directory ${dir} is in use by process ${pid}`);
    }
    // Left behind by a process that died (e.g. SIGKILL): take it over.
    await rm(path, { force: true });
  }
  throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `cannot take ${path}`);
}

/** Options for {@link openEmbeddedStore}. */
export interface EmbeddedStoreOptions extends JournalOptions {
  /** State directory; created (mode 0700) when missing. */
  readonly stateDir: string;
}

/** Opens the embedded store: takes the directory's pid lock, then replays the journal. */
export async function openEmbeddedStore(opts: EmbeddedStoreOptions): Promise<StoreBackend> {
  try {
    await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
  } catch (err: unknown) {
    throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `cannot create state directory ${opts.stateDir}`, { cause: err });
  }
  const pidPath = await takePidLock(opts.stateDir);
  let journal;
  try {
    journal = await openJournal(opts.stateDir, opts);
  } catch (err: unknown) {
    await rm(pidPath, { force: true });
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
      await rm(pidPath, { force: true });
    },
  };
}
