// etcd v3 store: one key per group (`<prefix>/groups/<group>` holding `{"holders":[...]}`), written
// only by compare-and-swap on the key's mod_revision, so several alt-fleetlockd instances can share
// one cluster without read-modify-write races. Slots are not stored: they come from each server's
// config, so a changed slot count takes effect (unlike airlock, which freezes it at key creation).
//
// Stale expiry is etcd's job, not the servers' clocks: a holder locked or renewed in a group with an
// expiry gets a lease key `<prefix>/leases/<group>/<id>` on a fresh lease of that TTL, written in the
// same transaction as the group key (a renewal is a new lease, not a keepalive, so the timer restarts
// exactly when the write commits). The group record lists those holders in `leased`; a listed
// holder whose lease key is gone was expired by etcd. So clock steps, servers with skewed clocks on
// one cluster, and server restarts change nothing: only the cluster's own TTL counts.
import { FleetLockStoreError } from '../errors.js';
import { createEtcdGateway, type EtcdGateway, type EtcdGatewayOptions, type EtcdKv } from './etcd-gateway.js';
import { NOT_IDLE, parseGroupState, serializeGroupState, type GroupState, type IdleFacts } from './semaphore.js';
import { ABSENT, type StoreBackend, type Touched, type Versioned } from './store.js';

/** Options for {@link openEtcdStore}. */
export interface EtcdStoreOptions extends EtcdGatewayOptions {
  /** Key prefix, without a trailing slash. @default "/alt-fleetlockd" */
  readonly prefix?: string;
}

/** The etcd key of a group's record. */
export function groupKey(prefix: string, group: string): string {
  return `${prefix}/groups/${group}`;
}

/** etcd's default limit of operations per transaction (`--max-txn-ops`). */
const TXN_OPS = 128;

/** The etcd key prefix of a group's lease keys. */
export function leaseKeyPrefix(prefix: string, group: string): string {
  return `${prefix}/leases/${group}/`;
}

function decode(kv: EtcdKv): { state: GroupState; leased: Set<string> } {
  let raw: unknown;
  try {
    raw = JSON.parse(kv.value.toString('utf8'));
  } catch {
    raw = null;
  }
  const state = parseGroupState(raw);
  const leased = (raw as { leased?: unknown } | null)?.leased ?? [];
  if (state === null || !Array.isArray(leased) || !leased.every((x) => typeof x === 'string')) {
    throw new FleetLockStoreError('FLEETLOCKD_STORE_CORRUPT', `etcd key '${kv.key}' does not hold a group state`);
  }
  return { state, leased: new Set(leased as string[]) };
}

const toVersioned = (kv: EtcdKv | null | undefined): Versioned => {
  if (!kv) return ABSENT;
  const { state, leased } = decode(kv);
  return { state, version: kv.modRevision, leased };
};

/** Which holders of `next` keep, gain or lose a lease key when `touched` restart their timers. */
function leasePlan(expected: Versioned, next: GroupState, touched: Touched): { leased: Set<string>; grant: Map<number, string[]>; drop: string[] } {
  const leased = new Set<string>();
  const grant = new Map<number, string[]>();
  for (const h of next.holders) {
    const ttl = touched.get(h.id);
    if (ttl === undefined) {
      if (expected.leased?.has(h.id)) leased.add(h.id);
    } else if (ttl !== null) {
      leased.add(h.id);
      const secs = Math.max(1, Math.ceil(ttl / 1000));
      grant.set(secs, [...(grant.get(secs) ?? []), h.id]);
    }
  }
  // Lease keys of holders that left or lost their expiry; renewed ones are overwritten by a put instead
  // (etcd refuses a put and a delete of one key in one transaction).
  const drop = [...(expected.leased ?? [])].filter((id) => !leased.has(id));
  return { leased, grant, drop };
}

/** Opens the etcd store and checks that the cluster answers a linearizable read. */
export async function openEtcdStore(opts: EtcdStoreOptions): Promise<StoreBackend & { readonly gateway: EtcdGateway }> {
  const prefix = (opts.prefix ?? '/alt-fleetlockd').replace(/\/+$/, '');
  const gw = createEtcdGateway(opts);
  const health = async (): Promise<void> => {
    await gw.range(`${prefix}/health`);
  };
  try {
    await health();
  } catch (err: unknown) {
    await gw.close();
    throw err;
  }
  return {
    engine: 'etcd',
    gateway: gw,
    async load(group) {
      const kvs = await gw.range(groupKey(prefix, group));
      return toVersioned(kvs[0]);
    },
    async idle(group, cur): Promise<IdleFacts> {
      if (!cur.leased || cur.leased.size === 0) return NOT_IDLE;
      const base = leaseKeyPrefix(prefix, group);
      const present = new Set((await gw.range(base, { prefix: true })).map((kv) => kv.key.slice(base.length)));
      return new Map([...cur.leased].filter((id) => !present.has(id)).map((id) => [id, Number.POSITIVE_INFINITY]));
    },
    async compareAndSwap(group, expected, next, touched) {
      if (next === null) {
        const r = await gw.compareAndSwap(groupKey(prefix, group), expected.version, null);
        return r.ok ? { ok: true, current: expected } : { ok: false, current: toVersioned(r.current) };
      }
      const plan = leasePlan(expected, next, touched);
      const leases: string[] = [];
      const puts: { key: string; value: Buffer; lease: string }[] = [];
      for (const [secs, ids] of plan.grant) {
        const lease = await gw.leaseGrant(secs);
        leases.push(lease);
        for (const id of ids) puts.push({ key: `${leaseKeyPrefix(prefix, group)}${id}`, value: Buffer.from(lease), lease });
      }
      const body = { ...serializeGroupState(next), ...(plan.leased.size > 0 ? { leased: [...plan.leased].sort() } : {}) };
      // etcd caps a transaction at 128 operations (--max-txn-ops); puts are bounded by the store's
      // batch size. A lease key not deleted here is harmless: only holders listed in `leased` are
      // looked up, and it expires with its lease.
      const room = Math.max(0, TXN_OPS - 1 - puts.length);
      const deletes = plan.drop.slice(0, room).map((id) => `${leaseKeyPrefix(prefix, group)}${id}`);
      const r = await gw.compareAndSwap(groupKey(prefix, group), expected.version, Buffer.from(JSON.stringify(body)), { puts, deletes });
      if (!r.ok) {
        // Unused leases would only expire on their own; revoke them now to keep the cluster tidy.
        for (const l of leases) void gw.leaseRevoke(l).catch(() => undefined);
        return { ok: false, current: toVersioned(r.current) };
      }
      return { ok: true, current: { state: next, version: r.current!.modRevision, leased: plan.leased } };
    },
    async loadAll() {
      const base = `${prefix}/groups/`;
      const out = new Map<string, GroupState>();
      for (const kv of await gw.range(base, { prefix: true })) out.set(kv.key.slice(base.length), decode(kv).state);
      return out;
    },
    health,
    close: () => gw.close(),
  };
}
