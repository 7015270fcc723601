// etcd v3 store: one key per group (`<prefix>/groups/<group>` holding `{"holders":[...]}`), written
// only by compare-and-swap on the key's mod_revision, so several alt-fleetlockd instances can share
// one cluster without read-modify-write races. Slots are not stored: they come from each server's
// config, so a changed slot count takes effect (unlike airlock, which freezes it at key creation).
import { FleetLockStoreError } from '../errors.js';
import { createEtcdGateway, type EtcdGateway, type EtcdGatewayOptions, type EtcdKv } from './etcd-gateway.js';
import { parseGroupState, serializeGroupState, type GroupState } from './semaphore.js';
import { ABSENT, type StoreBackend, type Versioned } from './store.js';

/** Options for {@link openEtcdStore}. */
export interface EtcdStoreOptions extends EtcdGatewayOptions {
  /** Key prefix, without a trailing slash. @default "/alt-fleetlockd" */
  readonly prefix?: string;
}

/** The etcd key of a group's record. */
export function groupKey(prefix: string, group: string): string {
  return `${prefix}/groups/${group}`;
}

function decode(kv: EtcdKv): GroupState {
  let raw: unknown;
  try {
    raw = JSON.parse(kv.value.toString('utf8'));
  } catch {
    raw = null;
  }
  const state = parseGroupState(raw);
  if (state === null) {
    throw new FleetLockStoreError('FLEETLOCKD_STORE_CORRUPT', `etcd key '${kv.key}' does not hold a group state`);
  }
  return state;
}

const toVersioned = (kv: EtcdKv | null | undefined): Versioned =>
  kv ? { state: decode(kv), version: kv.modRevision } : ABSENT;

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
    async compareAndSwap(group, expected, next) {
      const value = next === null ? null : Buffer.from(JSON.stringify(serializeGroupState(next)));
      const r = await gw.compareAndSwap(groupKey(prefix, group), expected.version, value);
      if (!r.ok) return { ok: false, current: toVersioned(r.current) };
      if (next === null) return { ok: true, current: expected };
      return { ok: true, current: { state: next, version: r.current!.modRevision } };
    },
    async loadAll() {
      const base = `${prefix}/groups/`;
      const out = new Map<string, GroupState>();
      for (const kv of await gw.range(base, { prefix: true })) out.set(kv.key.slice(base.length), decode(kv));
      return out;
    },
    health,
    close: () => gw.close(),
  };
}
