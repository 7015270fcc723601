// The lock store: backends (embedded journal, etcd) offer versioned compare-and-swap on one record per
// group, plus each holder's idle time as the backend measures it (never from wall-clock stamps);
// `createLockStore` turns that into serialised, batched, retried mutations.
import { FleetLockStoreError } from '../errors.js';
import { EMPTY_GROUP, type GroupState, type IdleFacts, type Mutation } from './semaphore.js';

/** A group state with the backend's opaque version (null: never written). */
export interface Versioned {
  /** The group's holders. */
  readonly state: GroupState;
  /** Backend version token (journal sequence or etcd mod_revision); null when the record is absent. */
  readonly version: string | null;
  /** etcd: the holders that were given a lease (an absent lease key then means etcd expired them). */
  readonly leased?: ReadonlySet<string>;
}

/** Holders whose stale timer restarts with a write, with the expiry to give them (null: none). */
export type Touched = ReadonlyMap<string, number | null>;

/** Result of a compare-and-swap: the record as it now stands, and whether the write happened. */
export interface CasResult {
  /** True when the stored version matched `expected` (and `next`, if any, is durable). */
  readonly ok: boolean;
  /** The record after the call: the written one when ok, the conflicting one otherwise. */
  readonly current: Versioned;
}

/** What each storage engine must provide. Every method rejects with {@link FleetLockStoreError}. */
export interface StoreBackend {
  /** Short engine name for logs and health output. */
  readonly engine: 'embedded' | 'etcd';
  /** Reads one group's record (linearizable). */
  load(group: string): Promise<Versioned>;
  /**
   * How long each holder of `current` has gone without renewing; read fresh on every call (not
   * cached with the record), so an expiry is seen even while the record itself does not change.
   */
  idle(group: string, current: Versioned): Promise<IdleFacts>;
  /**
   * Writes `next` only if the stored version still equals `expected.version`; with `next` null it only
   * checks that `expected` is current. On success the `touched` holders' stale timers restart in the
   * same atomic step. Resolves after the write is durable.
   */
  compareAndSwap(group: string, expected: Versioned, next: GroupState | null, touched: Touched): Promise<CasResult>;
  /** Reads every stored group. */
  loadAll(): Promise<Map<string, GroupState>>;
  /** Resolves when the backend can serve, rejects with the reason otherwise. */
  health(): Promise<void>;
  /** Releases files, sockets and timers. */
  close(): Promise<void>;
}

/** Serialised access to group states; what the HTTP layer uses. */
export interface LockStore {
  /** Engine name of the backend. */
  readonly engine: 'embedded' | 'etcd';
  /**
   * Applies `fn` to the group's current state and its holders' idle times and persists the result
   * before resolving. `fn` must be pure: it may run more than once when a concurrent writer (another
   * server on etcd) wins a race.
   */
  mutate<T>(group: string, fn: (state: GroupState, idle: IdleFacts) => Mutation<T>): Promise<T>;
  /** Reads every stored group (no caching). */
  readAll(): Promise<Map<string, GroupState>>;
  /** The idle times of a group's holders now (for display; decisions go through `mutate`). */
  idle(group: string): Promise<IdleFacts>;
  /** Resolves when the store is healthy. */
  health(): Promise<void>;
  /** Waits for queued mutations, then closes the backend. */
  close(): Promise<void>;
}

interface Pending {
  fn: (state: GroupState, idle: IdleFacts) => Mutation<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Lane {
  queue: Pending[];
  running: boolean;
  cache: Versioned | null;
}

/** Options for {@link createLockStore}. */
export interface LockStoreOptions {
  /** Compare-and-swap losses tolerated per batch before failing it. @default 64 */
  readonly maxConflicts?: number;
  /**
   * Most requests committed in one batch. Each touches at most one holder, so this also bounds the
   * lease puts of an etcd transaction (etcd refuses more than 128 operations by default). @default 100
   */
  readonly maxBatch?: number;
}

/**
 * Wraps a backend so that mutations of one group run one batch at a time: every request queued while
 * a write is in flight is applied, in arrival order, to the same state and committed in one
 * compare-and-swap (group commit). The last known record is cached; a stale cache only costs one
 * failed compare, never a wrong answer, because even "nothing to write" outcomes are confirmed
 * against the stored version.
 */
export function createLockStore(backend: StoreBackend, opts: LockStoreOptions = {}): LockStore {
  const maxConflicts = opts.maxConflicts ?? 64;
  const maxBatch = opts.maxBatch ?? 100;
  const lanes = new Map<string, Lane>();
  const idle = new Set<() => void>();
  let closed = false;

  const lane = (group: string): Lane => {
    let l = lanes.get(group);
    if (!l) {
      l = { queue: [], running: false, cache: null };
      lanes.set(group, l);
    }
    return l;
  };

  const runBatch = async (group: string, l: Lane, batch: Pending[]): Promise<void> => {
    for (let conflicts = 0; ; conflicts++) {
      const cur = l.cache ?? (await backend.load(group));
      // A holder touched earlier in the batch is not idle for the requests after it.
      const idle = new Map(await backend.idle(group, cur));
      const touched = new Map<string, number | null>();
      let state = cur.state;
      let changed = false;
      const results: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
      for (const p of batch) {
        try {
          const m = p.fn(state, idle);
          if (m.next !== null) {
            state = m.next;
            changed = true;
          }
          if (m.touch) {
            touched.set(m.touch.id, m.touch.staleAfterMs);
            idle.delete(m.touch.id);
          }
          results.push({ ok: true, value: m.result });
        } catch (error: unknown) {
          results.push({ ok: false, error });
        }
      }
      const cas = await backend.compareAndSwap(group, cur, changed ? state : null, touched);
      l.cache = cas.current;
      if (cas.ok) {
        batch.forEach((p, i) => {
          const r = results[i]!;
          if (r.ok) p.resolve(r.value);
          else p.reject(r.error);
        });
        return;
      }
      if (conflicts + 1 >= maxConflicts) {
        throw new FleetLockStoreError('FLEETLOCKD_STORE_CONFLICT', `group '${group}': ${maxConflicts} write conflicts in a row`);
      }
    }
  };

  const drain = async (group: string, l: Lane): Promise<void> => {
    while (l.queue.length > 0) {
      const batch = l.queue.splice(0, maxBatch);
      try {
        await runBatch(group, l, batch);
      } catch (err: unknown) {
        // Unknown outcome: forget the cache so the next batch starts from a fresh read.
        l.cache = null;
        for (const p of batch) p.reject(err);
      }
    }
    l.running = false;
    if ([...lanes.values()].every((x) => !x.running)) for (const f of [...idle]) f();
  };

  return {
    engine: backend.engine,
    mutate<T>(group: string, fn: (state: GroupState, idle: IdleFacts) => Mutation<T>): Promise<T> {
      if (closed) return Promise.reject(new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', 'store is closed'));
      return new Promise<T>((resolve, reject) => {
        const l = lane(group);
        l.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        if (!l.running) {
          // Start on a microtask so requests arriving in the same tick share the first batch.
          l.running = true;
          queueMicrotask(() => void drain(group, l));
        }
      });
    },
    readAll: () => backend.loadAll(),
    idle: async (group) => backend.idle(group, await backend.load(group)),
    health: () => backend.health(),
    async close(): Promise<void> {
      closed = true;
      if ([...lanes.values()].some((x) => x.running)) {
        await new Promise<void>((resolve) => {
          const f = (): void => {
            idle.delete(f);
            resolve();
          };
          idle.add(f);
        });
      }
      await backend.close();
    },
  };
}

/** The record of a group that has never been written. */
export const ABSENT: Versioned = Object.freeze({ state: EMPTY_GROUP, version: null });
