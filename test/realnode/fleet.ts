// A FleetLock world for real nodes: real etcd and the real alt-fleetlockd (the booted product's
// build, ALT_REALNODE_SOURCE) on the network's host address, and the witnesses a fleet test reads:
// the server's lock_acquired/lock_released lines stamped with the host clock as they arrive, every
// version the group's etcd key ever had (etcd's MVCC history, so "never two holders" is checked on
// each write, not sampled), and the agents' events from each node's journal (every boot).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TimelineEntry } from '../../scripts/demo-lib.js';
import { appSpecificId, parseMachineId } from '../../src/identity/index.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { spawnServer, type Spawned } from '../integration/fleetlock/spawn.js';
import type { RealNode } from './node.js';
import { PRODUCT_SOURCE } from './product.js';

/** The etcd key prefix alt-fleetlockd uses here. */
const PREFIX = '/realnode';
const ADMIN_TOKEN = 'realnode-admin';

/** One version of the group's etcd key. */
export interface GroupVersion {
  readonly modRevision: number;
  /** Holder ids in this version; empty when the key did not exist. */
  readonly holders: readonly string[];
}

/** One holder's time with the slot, per alt-fleetlockd's log (host ms since the epoch). */
export interface LockInterval {
  readonly id: string;
  readonly from: number;
  /** Null while it holds the slot. */
  readonly to: number | null;
}

/** etcd plus alt-fleetlockd on the etcd store, both on the bridge. */
export interface FleetLockWorld {
  /** alt-fleetlockd's base URL (what the agents' `updates.fleet_lock.base_url` names). */
  readonly url: string;
  readonly etcd: EtcdCluster;
  /** Holder ids of group `default`, per alt-fleetlockd's admin API. */
  holders(): Promise<string[]>;
  /** Every version the key of group `default` had, oldest first (deletions as empty versions). */
  groupHistory(): Promise<GroupVersion[]>;
  /** Every slot taken so far, in the order taken, from the server's log. */
  lockIntervals(): LockInterval[];
  /** alt-fleetlockd's output so far. */
  serverLog(): string;
  /** Stops alt-fleetlockd and etcd and removes their files (safe after a failed start). */
  close(): Promise<void>;
}

/** Starts one etcd member and alt-fleetlockd (group `default` with `slots` slots) on `host`. */
export async function startFleetLockWorld(o: { host: string; slots: number }): Promise<FleetLockWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'altrn-fleetlock-'));
  let etcd: EtcdCluster | undefined;
  let server: Spawned | undefined;
  const close = async (): Promise<void> => {
    await server?.stop('SIGTERM');
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    etcd = await startEtcd({ host: o.host });
    const config = join(dir, 'fleetlockd.toml');
    await writeFile(
      config,
      [
        `listen = "${o.host}:0"`,
        `admin_token = "${ADMIN_TOKEN}"`,
        '[store]',
        'type = "etcd"',
        '[store.etcd]',
        `endpoints = [${etcd.endpoints.map((e) => JSON.stringify(e)).join(', ')}]`,
        `prefix = "${PREFIX}"`,
        '[groups.default]',
        `slots = ${o.slots}`,
        '',
      ].join('\n'),
    );
    server = await spawnServer(['--config', config, '--log-format', 'journal'], join(PRODUCT_SOURCE, 'dist/src/fleetlock/server/main.js'));
  } catch (err: unknown) {
    await close();
    throw err;
  }
  const s = server;
  // Stamped on arrival: the server logs lock_acquired after the store write and before its reply, and
  // lock_released likewise, so the stamps bracket what the node did with the slot in between.
  const lockEvents: { t: number; event: string; id: string }[] = [];
  let pending = '';
  const onData = (d: Buffer): void => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const event = /\bevent=(lock_acquired|lock_released|lock_expired|lock_force_released)\b/.exec(line)?.[1];
      const id = /\sid=(\S+)/.exec(line)?.[1];
      if (event !== undefined && id !== undefined) lockEvents.push({ t: Date.now(), event, id });
    }
  };
  s.child.stdout!.on('data', onData);
  s.child.stderr!.on('data', onData);
  const endpoint = etcd.endpoints[0]!;
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const range = async (body: Record<string, unknown>): Promise<{ header: { revision: string }; kvs?: { mod_revision: string; value: string }[] }> => {
    const res = await fetch(`${endpoint}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64(`${PREFIX}/groups/default`), ...body }) });
    if (!res.ok) throw new Error(`etcd range: HTTP ${res.status}: ${await res.text()}`);
    return (await res.json()) as Awaited<ReturnType<typeof range>>;
  };
  return {
    url: s.url.endsWith('/') ? s.url : `${s.url}/`,
    etcd,
    async holders() {
      const res = await fetch(`${s.url.replace(/\/$/, '')}/admin/v1/groups/default`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      if (!res.ok) throw new Error(`alt-fleetlockd admin API: HTTP ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { holders?: { id: string }[] }).holders?.map((h) => h.id) ?? [];
    },
    async groupHistory() {
      // The key at every revision of the store (etcd compacts nothing unless told to): each write of
      // the key shows up as a new mod_revision.
      const head = Number((await range({})).header.revision);
      const out: GroupVersion[] = [];
      let last = -1;
      for (let rev = 1; rev <= head; rev++) {
        const kv = (await range({ revision: rev })).kvs?.[0];
        const mod = kv === undefined ? 0 : Number(kv.mod_revision);
        if (mod === last) continue;
        last = mod;
        const state = kv === undefined ? { holders: [] } : (JSON.parse(Buffer.from(kv.value, 'base64').toString('utf8')) as { holders: { id: string }[] });
        out.push({ modRevision: mod, holders: state.holders.map((h) => h.id) });
      }
      return out;
    },
    lockIntervals() {
      const out: { id: string; from: number; to: number | null }[] = [];
      for (const e of lockEvents) {
        if (e.event === 'lock_acquired') out.push({ id: e.id, from: e.t, to: null });
        else {
          const open = out.find((i) => i.id === e.id && i.to === null);
          if (open !== undefined) open.to = e.t;
        }
      }
      return out;
    },
    serverLog: () => s.output(),
    close,
  };
}

/** The id `node`'s agent sends to FleetLock servers: its machine-id's app-specific id (Zincati's). */
export async function fleetLockId(node: RealNode): Promise<string> {
  return appSpecificId(parseMachineId((await node.exec(['cat', '/etc/machine-id'])).stdout));
}

/** One journal record of `journalctl -o json` (the fields read here). */
interface JournalRecord {
  readonly MESSAGE: string;
  readonly __REALTIME_TIMESTAMP: string;
}

/**
 * The agent's events on `node` over every boot its journal holds, as a timeline in host
 * milliseconds since the epoch (the containers share the host's clock), named `node.name`.
 */
export async function agentTimeline(node: RealNode): Promise<TimelineEntry[]> {
  const { stdout } = await node.exec(['journalctl', '--no-pager', '-o', 'json', '-u', 'alt-updated', '--output-fields=MESSAGE,__REALTIME_TIMESTAMP']);
  const out: TimelineEntry[] = [];
  for (const line of stdout.split('\n').filter(Boolean)) {
    const rec = JSON.parse(line) as JournalRecord;
    if (typeof rec.MESSAGE !== 'string') continue;
    const event = /\bevent=(\S+)/.exec(rec.MESSAGE)?.[1];
    if (event === undefined) continue;
    out.push({ t: Math.floor(Number(rec.__REALTIME_TIMESTAMP) / 1000), node: node.name, event, release: /\brelease=(\S+)/.exec(rec.MESSAGE)?.[1] ?? null });
  }
  return out;
}
