// In-process alt-fleetlockd for integration tests: real HTTP on 127.0.0.1:0, a real store (journal in
// a temp dir, or a real etcd), a ManualClock; plus direct readers of the store for assertions.
import { crc32 } from 'node:zlib';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import type { GroupConfig, ServerConfig } from '../../../src/fleetlock/server/config.js';
import { openEmbeddedStore } from '../../../src/fleetlock/server/embedded-store.js';
import { NEVER_HALT } from '../../../src/fleetlock/server/halt.js';
import { createEtcdGateway } from '../../../src/fleetlock/server/etcd-gateway.js';
import { openEtcdStore } from '../../../src/fleetlock/server/etcd-store.js';
import { JOURNAL_FILE } from '../../../src/fleetlock/server/journal.js';
import { createFleetLockService, listen, type FleetLockService } from '../../../src/fleetlock/server/service.js';
import { createLockStore, type LockStore } from '../../../src/fleetlock/server/store.js';

/** Saturday 2026-11-28 01:30 UTC. */
export const SAT_0130 = Date.UTC(2026, 10, 28, 1, 30);

/** A group with defaults for tests. */
export function group(name: string, slots: number, extra: Partial<GroupConfig> = {}): GroupConfig {
  return { name, slots, token: null, staleAfterMs: null, windows: [], halt: NEVER_HALT, ...extra };
}

/** Where the in-process server keeps its locks. */
export type StoreSpec = { engine: 'embedded' } | { engine: 'etcd'; endpoints: string[]; prefix: string };

/** A running in-process server. */
export interface InProcess {
  readonly url: string;
  readonly clock: ManualClock;
  readonly service: FleetLockService;
  readonly store: LockStore;
  readonly logs: ReturnType<typeof memoryLogger>['records'];
  readonly config: ServerConfig;
  /** Every state the store ever held for `group`, oldest first, read directly (journal lines / etcd revisions). */
  history(group: string): Promise<string[][]>;
  close(): Promise<void>;
}

let prefixCounter = 0;
/** A fresh etcd key prefix, so tests sharing one etcd do not see each other. */
export function freshPrefix(): string {
  prefixCounter += 1;
  return `/alt-test-${process.pid}-${prefixCounter}`;
}

/** Reads every record of a journal file independently of the store code (crc + JSON per line). */
export async function journalHistory(dir: string, groupName: string): Promise<string[][]> {
  const text = await readFile(join(dir, JOURNAL_FILE), 'utf8');
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const json = line.slice(9);
    if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) throw new Error(`bad crc: ${line}`);
    const rec = JSON.parse(json) as { group: string; state: { holders: { id: string }[] } };
    if (rec.group === groupName) out.push(rec.state.holders.map((h) => h.id));
  }
  return out;
}

/** Reads every historical value of an etcd key, revision by revision. */
export async function etcdHistory(endpoints: string[], key: string): Promise<string[][]> {
  const gw = createEtcdGateway({ endpoints });
  try {
    const cur = await gw.range(key);
    if (cur.length === 0) return [];
    const out: string[][] = [];
    let rev = cur[0]!.modRevision;
    // Walk back through the key's versions via each value's previous revision.
    for (;;) {
      const kv = (await gw.range(key, { revision: rev }))[0];
      if (!kv) break;
      out.unshift((JSON.parse(kv.value.toString()) as { holders: { id: string }[] }).holders.map((h) => h.id));
      const prev = BigInt(kv.modRevision) - 1n;
      if (prev <= 0n) break;
      const before = (await gw.range(key, { revision: prev.toString() }))[0];
      if (!before) break;
      rev = before.modRevision;
    }
    return out;
  } finally {
    await gw.close();
  }
}

/** Starts the service in-process on 127.0.0.1:0. */
export async function startInProcess(opts: {
  store: StoreSpec;
  groups: GroupConfig[];
  adminToken?: string | null;
  startMs?: number;
  /** The server's clock (e.g. one skewed against another server's); default a new one at `startMs`. */
  clock?: ManualClock;
  stateDir?: string;
  /** TLS of the listener (PEM files). @default null (plain HTTP) */
  tls?: ServerConfig['tls'];
}): Promise<InProcess> {
  const clock = opts.clock ?? new ManualClock(opts.startMs ?? SAT_0130);
  const logger = memoryLogger();
  const dir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'alt-fleetlockd-')));
  const spec = opts.store;
  const config: ServerConfig = {
    listen: { host: '127.0.0.1', port: 0 },
    tls: opts.tls ?? null,
    adminToken: opts.adminToken ?? null,
    store: spec.engine === 'embedded' ? { kind: 'embedded', stateDir: dir } : { kind: 'etcd', endpoints: spec.endpoints, prefix: spec.prefix, timeoutMs: 3000 },
    groups: new Map(opts.groups.map((g) => [g.name, g])),
    sweepIntervalMs: 30_000,
  };
  const backend = spec.engine === 'embedded' ? await openEmbeddedStore({ stateDir: dir, monotonicMs: () => clock.monotonicMs() }) : await openEtcdStore({ endpoints: spec.endpoints, prefix: spec.prefix });
  const store = createLockStore(backend);
  const service = createFleetLockService({ config, store, clock, logger });
  const server = await listen(config, service);
  return {
    url: server.url,
    clock,
    service,
    store,
    logs: logger.records,
    config,
    history: (g) => (spec.engine === 'embedded' ? journalHistory(dir, g) : etcdHistory(spec.endpoints, `${spec.prefix}/groups/${g}`)),
    async close() {
      await server.close();
      await store.close();
      if (opts.stateDir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
