// The simulation's servers: a real ostree repo with two releases, the real alt-graphd service and the
// real alt-fleetlockd service (embedded store), both in this process on 127.0.0.1 and both on the
// simulation's virtual clock (they take an injected Clock already), so rollouts and lock times
// follow virtual time.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ManualClock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import { parseConfigText } from '../fleetlock/server/config.js';
import { openEmbeddedStore } from '../fleetlock/server/embedded-store.js';
import { openEtcdStore } from '../fleetlock/server/etcd-store.js';
import { createFleetLockService, listen, type FleetLockService, type RunningServer } from '../fleetlock/server/service.js';
import { createLockStore, type LockStore } from '../fleetlock/server/store.js';
import type { Release } from '../graph/release.js';
import { startGraphd, type RunningGraphd } from '../graph-server/server.js';
import { SimulatorError } from './errors.js';
import { startSimEtcd, type SimEtcd } from './etcd.js';

const run = promisify(execFile);

/** Architecture of the simulated fleet (a name only: nothing runs on it). */
export const SIM_BASEARCH = 'x86_64';
/** Stream of the simulated fleet. */
export const SIM_STREAM = 'sisyphus';

/** What the world is built with. */
export interface WorldOptions {
  /** FleetLock slots of the group `default`; null starts no lock server. */
  readonly slots: number | null;
  /** Rollout of the new release over this many minutes from the start; null = everyone at once. */
  readonly rolloutMinutes: number | null;
  /** alt-fleetlockd's store: its embedded journal, or an etcd cluster of 1 or 3 members started here. */
  readonly store: { readonly kind: 'embedded' } | { readonly kind: 'etcd'; readonly members: 1 | 3 };
  /** The shared virtual clock. */
  readonly clock: ManualClock;
  /** Servers' logger. */
  readonly logger: Logger;
}

/** The running servers and the two releases. */
export interface World {
  /** The release every node boots first. */
  readonly previous: Release;
  /** The new release. */
  readonly newest: Release;
  /** alt-graphd base URL. */
  readonly graphUrl: string;
  /** alt-fleetlockd base URL, or null without one. */
  readonly lockUrl: string | null;
  /** The lock store (the invariant checks read holders from it). */
  readonly lockStore: LockStore | null;
  /** The store's engine (`embedded`, `etcd`), or null without a lock server. */
  readonly lockEngine: string | null;
  /** Requests the servers counted, read from their `/metrics` (lock requests: pre-reboot and steady-state, not verdicts). */
  serverCounts(): Promise<{ graphRequests: number; lockRequests: number }>;
  /** Stops the servers, removes the temp dir. */
  close(): Promise<void>;
}

async function ostree(args: string[]): Promise<string> {
  try {
    return (await run('ostree', args)).stdout.trim();
  } catch (err: unknown) {
    throw new SimulatorError('SIM_OSTREE', `ostree ${args[1] ?? ''} failed (is ostree installed? bash scripts/setup.sh)`, { cause: err });
  }
}

/** Commits two tiny releases on `altcos/x86_64/sisyphus`: the graph needs only refs and versions. */
async function makeRepo(dir: string, name: string): Promise<{ path: string; releases: Release[] }> {
  const path = join(dir, name);
  await mkdir(path);
  await ostree([`--repo=${path}`, 'init', '--mode=archive']);
  const releases: Release[] = [];
  for (const [i, version] of ['20261201.0.0', '20261202.0.0'].entries()) {
    const tree = join(dir, `tree-${i}`);
    await mkdir(join(tree, 'usr/lib'), { recursive: true });
    await writeFile(join(tree, 'usr/lib/os-release'), `ID=altcos\nVERSION="${version}"\n`);
    const checksum = await ostree([
      `--repo=${path}`,
      'commit',
      `--branch=altcos/${SIM_BASEARCH}/${SIM_STREAM}`,
      `--tree=dir=${tree}`,
      `--add-metadata-string=version=${version}`,
      `--timestamp=2026-12-0${i + 1}T00:00:00Z`,
    ]);
    releases.push({ version, payload: checksum, ageIndex: i });
  }
  return { path, releases };
}

/** Sums the samples of counter `family` in a Prometheus text, only those with `label` when given. */
function countOf(text: string, family: string, label?: (labels: string) => boolean): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${family}{`) && !line.startsWith(`${family} `)) continue;
    const labels = line.slice(family.length, line.lastIndexOf(' '));
    if (label === undefined || label(labels)) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/** Builds the repo and starts both servers on 127.0.0.1 (ephemeral ports). */
export async function startWorld(o: WorldOptions): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'alt-simulate-'));
  let graphd: RunningGraphd | null = null;
  let lock: { server: RunningServer; store: LockStore; close(): Promise<void> } | null = null;
  let releases: Release[];
  try {
    releases = (await makeRepo(dir, graphdRepo)).releases;
    const updates = join(dir, 'updates');
    await mkdir(updates);
    const newest = releases[1]!;
    if (o.rolloutMinutes !== null) {
      const startEpoch = Math.floor(o.clock.nowMs() / 1000);
      const rollout = { start_epoch: startEpoch, start_percentage: 0, duration_minutes: o.rolloutMinutes };
      await writeFile(join(updates, `${SIM_STREAM}.json`), JSON.stringify({ stream: SIM_STREAM, releases: [{ version: newest.version, metadata: { rollout } }] }));
    }
    // No poll loop: the releases are all there at the start, and a loop would only wake on the clock.
    graphd = await startGraphd(
      {
        repo: join(dir, graphdRepo),
        updates,
        host: '127.0.0.1',
        port: 0,
        refPrefix: 'altcos',
        pollIntervalSecs: 30,
        cacheDir: join(dir, 'cache'),
        implicitRollout: true,
        nowSecs: null,
        verifyKeyringDir: null,
      },
      { clock: o.clock, logger: o.logger, poll: false },
    );
    if (o.slots !== null) lock = await startLockServer(dir, o);
  } catch (err: unknown) {
    await graphd?.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const g = graphd;
  const l = lock;
  return {
    previous: releases[0]!,
    newest: releases[1]!,
    graphUrl: g.url,
    lockUrl: l?.server.url ?? null,
    lockStore: l?.store ?? null,
    lockEngine: l?.store.engine ?? null,
    async serverCounts() {
      const graphText = await (await fetch(new URL('metrics', g.url))).text();
      const lockText = l === null ? '' : await (await fetch(new URL('metrics', l.server.url))).text();
      return { graphRequests: countOf(graphText, 'altgraphd_v1_graph_requests_total'), lockRequests: countOf(lockText, 'alt_fleetlockd_requests_total', (l) => /api="(pre-reboot|steady-state)"/.test(l)) };
    },
    async close() {
      await g.close();
      await l?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const graphdRepo = 'repo';

async function startLockServer(dir: string, o: WorldOptions): Promise<{ server: RunningServer; store: LockStore; close(): Promise<void> }> {
  const stateDir = join(dir, 'fleetlockd');
  await mkdir(stateDir);
  const etcd: SimEtcd | null = o.store.kind === 'etcd' ? await startSimEtcd(join(dir, 'etcd'), o.store.members) : null;
  try {
    const storeToml =
      etcd === null
        ? `[store]\ntype = "embedded"\nstate_dir = ${JSON.stringify(stateDir)}\n`
        : `[store]\ntype = "etcd"\n[store.etcd]\nendpoints = ${JSON.stringify(etcd.endpoints)}\n`;
    // No halt policy: a failed update rolls that node back and the rollout goes on (the plan shows it).
    const config = parseConfigText(`listen = "127.0.0.1:0"\n${storeToml}[groups.default]\nslots = ${o.slots ?? 1}\n`, 'simulator');
    // Opened as alt-fleetlockd's main.ts opens it (that module is the executable, so it is not imported).
    const backend =
      config.store.kind === 'embedded'
        ? await openEmbeddedStore({ stateDir, monotonicMs: () => o.clock.monotonicMs() })
        : await openEtcdStore({ endpoints: config.store.endpoints, prefix: config.store.prefix, timeoutMs: config.store.timeoutMs });
    const store = createLockStore(backend);
    const service: FleetLockService = createFleetLockService({ config, store, clock: o.clock, logger: o.logger });
    const server = await listen(config, service, null);
    return {
      server,
      store,
      async close() {
        await server.close();
        await store.close();
        await etcd?.stop();
      },
    };
  } catch (err: unknown) {
    await etcd?.stop();
    throw err;
  }
}
