// The simulation's servers: a real ostree repo with two releases, and the real alt-graphd and
// alt-fleetlockd executables (the built dist/ mains) as child processes on 127.0.0.1 with real config
// files, both on the simulation's virtual clock (ALT_SIM_CLOCK=ipc, src/common/sim-clock.ts), so
// rollouts and lock times follow virtual time. alt-fleetlockd keeps its slots in its embedded journal
// or in an etcd cluster started here. Each server listens on a port fixed at the start, so a fault
// can kill it and start it again on the same port with the same data.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ManualClock } from '../common/clock.js';
import type { Release } from '../graph/release.js';
import { SimulatorError } from './errors.js';
import { haltToml, type GroupHalt, type SimHaltPolicy } from './halt.js';
import { freePorts, startSimEtcd, type SimEtcd } from './etcd.js';
import { builtMain, ServerProcess } from './server-process.js';

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
  /** The shared virtual clock (the servers follow it through {@link World.syncClocks}). */
  readonly clock: ManualClock;
  /** Halt policy of group `default` (`--halt-after`); null: failures never halt it. @default null */
  readonly halt?: SimHaltPolicy | null;
}

/** Requests the servers counted. */
export interface ServerCounts {
  readonly graphRequests: number;
  readonly lockRequests: number;
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
  /** The store's engine (`embedded`, `etcd`), or null without a lock server. */
  readonly lockEngine: string | null;
  readonly graphd: ServerProcess;
  readonly fleetlockd: ServerProcess | null;
  readonly etcd: SimEtcd | null;
  /**
   * Holders of group `default`, from alt-fleetlockd's admin API; while alt-fleetlockd is down, the
   * last answer (its store has no other writer, so nothing can change until it is back). Null
   * without a lock server.
   */
  holders(): Promise<string[] | null>;
  /** Whether group `default` is halted, from the admin API (the last answer while alt-fleetlockd is down). */
  halted(): Promise<GroupHalt | null>;
  /** Sets every running server's clock to the virtual now and waits for their acknowledgements. */
  syncClocks(): Promise<void>;
  /**
   * Requests counted by the servers, read from their `/metrics` (lock requests: pre-reboot and
   * steady-state, not verdicts), plus what earlier processes had counted when they were killed.
   */
  serverCounts(): Promise<ServerCounts>;
  /** Adds a server's counts to the totals: call right before killing it (its counters die with it). */
  bank(which: 'graphd' | 'fleetlockd'): Promise<void>;
  /** Peak memory (VmHWM) of each server over all its processes, MiB (null: not running). */
  memory(): Promise<{ graphd: number; fleetlockd: number | null; etcd: number | null }>;
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

const ADMIN_TOKEN = 'alt-simulate-admin';
// No change polls or sweeps: the releases are all there at the start, no group has stale expiry,
// and a timer loop on the virtual clock would only wake at every time step.
const NEVER_SECS = 10 * 365 * 86400;

async function scrape(url: string, family: string, label?: (labels: string) => boolean): Promise<number> {
  return countOf(await (await fetch(new URL('metrics', url))).text(), family, label);
}

/** Builds the repo, writes the configs and starts the servers on 127.0.0.1 (ports fixed now). */
export async function startWorld(o: WorldOptions): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'alt-simulate-'));
  const clock = (): { type: 'clock'; nowMs: number; monotonicMs: number } => ({ type: 'clock', nowMs: o.clock.nowMs(), monotonicMs: o.clock.monotonicMs() });
  const started: ServerProcess[] = [];
  let etcd: SimEtcd | null = null;
  try {
    const { releases } = await makeRepo(dir, 'repo');
    const updates = join(dir, 'updates');
    await mkdir(updates);
    const newest = releases[1]!;
    if (o.rolloutMinutes !== null) {
      const rollout = { start_epoch: Math.floor(o.clock.nowMs() / 1000), start_percentage: 0, duration_minutes: o.rolloutMinutes };
      await writeFile(join(updates, `${SIM_STREAM}.json`), JSON.stringify({ stream: SIM_STREAM, releases: [{ version: newest.version, metadata: { rollout } }] }));
    }
    const [graphPort, lockPort] = await freePorts(2);
    const graphToml = join(dir, 'graphd.toml');
    const toml = (v: string): string => JSON.stringify(v);
    await writeFile(
      graphToml,
      `repo = ${toml(join(dir, 'repo'))}\nupdates = ${toml(updates)}\nlisten = "127.0.0.1:${graphPort}"\nimplicit_rollout = true\n` +
        `poll_interval_secs = ${NEVER_SECS}\ncache_dir = ${toml(join(dir, 'cache'))}\n`,
    );
    const graphd = new ServerProcess({ name: 'alt-graphd', main: builtMain('graph-server/main.js'), args: ['--config', graphToml], ready: /event=listening/, clock, logFile: join(dir, 'graphd.log') });
    started.push(graphd);
    await graphd.start();
    let fleetlockd: ServerProcess | null = null;
    if (o.slots !== null) {
      const stateDir = join(dir, 'fleetlockd');
      await mkdir(stateDir);
      if (o.store.kind === 'etcd') etcd = await startSimEtcd(join(dir, 'etcd'), o.store.members);
      const storeToml =
        etcd === null ? `[store]\ntype = "embedded"\nstate_dir = ${toml(stateDir)}\n` : `[store]\ntype = "etcd"\n[store.etcd]\nendpoints = ${JSON.stringify(etcd.endpoints)}\n`;
      const lockToml = join(dir, 'fleetlockd.toml');
      // Without a halt policy a failed update rolls that node back and the rollout goes on; with one, the group halts.
      await writeFile(
        lockToml,
        `listen = "127.0.0.1:${lockPort}"\nadmin_token = ${toml(ADMIN_TOKEN)}\nsweep_interval_secs = 86400\n${storeToml}[groups.default]\nslots = ${o.slots}\n${haltToml(o.halt ?? null)}`,
      );
      fleetlockd = new ServerProcess({ name: 'alt-fleetlockd', main: builtMain('fleetlock/server/main.js'), args: ['--config', lockToml], ready: /alt-fleetlockd listening/, clock, logFile: join(dir, 'fleetlockd.log') });
      started.push(fleetlockd);
      await fleetlockd.start();
    }
    return makeWorld({ dir, releases, graphd, fleetlockd, etcd, graphUrl: `http://127.0.0.1:${graphPort}/`, lockUrl: fleetlockd === null ? null : `http://127.0.0.1:${lockPort}/` });
  } catch (err: unknown) {
    for (const p of started) await p.stop();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function makeWorld(w: {
  dir: string;
  releases: Release[];
  graphd: ServerProcess;
  fleetlockd: ServerProcess | null;
  etcd: SimEtcd | null;
  graphUrl: string;
  lockUrl: string | null;
}): World {
  const banked = { graphRequests: 0, lockRequests: 0 };
  const lockFamily = (l: string): boolean => /api="(pre-reboot|steady-state)"/.test(l);
  let lastHolders: string[] = [];
  let lastHalt: GroupHalt | null = null;
  const counts = async (which: 'graphd' | 'fleetlockd'): Promise<number> => {
    if (which === 'graphd') return w.graphd.running ? scrape(w.graphUrl, 'altgraphd_v1_graph_requests_total') : 0;
    return w.lockUrl !== null && w.fleetlockd?.running === true ? scrape(w.lockUrl, 'alt_fleetlockd_requests_total', lockFamily) : 0;
  };
  return {
    previous: w.releases[0]!,
    newest: w.releases[1]!,
    graphUrl: w.graphUrl,
    lockUrl: w.lockUrl,
    lockEngine: w.fleetlockd === null ? null : w.etcd === null ? 'embedded' : 'etcd',
    graphd: w.graphd,
    fleetlockd: w.fleetlockd,
    etcd: w.etcd,
    async holders() {
      if (w.lockUrl === null) return null;
      if (w.fleetlockd?.running !== true) return lastHolders;
      const res = await fetch(new URL('admin/v1/groups/default', w.lockUrl), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const body = (await res.json()) as { holders?: { id: string }[] };
      if (!res.ok || !Array.isArray(body.holders)) throw new SimulatorError('SIM_SERVER', `alt-fleetlockd admin API: HTTP ${res.status}: ${JSON.stringify(body)}`);
      lastHolders = body.holders.map((h) => h.id);
      return lastHolders;
    },
    async halted() {
      if (w.lockUrl === null || w.fleetlockd?.running !== true) return lastHalt;
      const res = await fetch(new URL('admin/v1/groups/default', w.lockUrl), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const body = (await res.json()) as { halted?: { since: string; reason: string } | null };
      if (!res.ok || body.halted === undefined) throw new SimulatorError('SIM_SERVER', `alt-fleetlockd admin API: HTTP ${res.status}: ${JSON.stringify(body)}`);
      lastHalt = body.halted === null ? null : { sinceMs: Date.parse(body.halted.since), reason: body.halted.reason };
      return lastHalt;
    },
    async syncClocks() {
      await Promise.all([w.graphd.syncClock(), w.fleetlockd?.syncClock()]);
    },
    async serverCounts() {
      return { graphRequests: banked.graphRequests + (await counts('graphd')), lockRequests: banked.lockRequests + (await counts('fleetlockd')) };
    },
    async bank(which) {
      const n = await counts(which);
      if (which === 'graphd') banked.graphRequests += n;
      else banked.lockRequests += n;
    },
    async memory() {
      await Promise.all([w.graphd.sample(), w.fleetlockd?.sample(), w.etcd?.sample()]);
      return { graphd: w.graphd.peakMiB, fleetlockd: w.fleetlockd?.peakMiB ?? null, etcd: w.etcd?.peakMiB() ?? null };
    },
    async close() {
      await w.graphd.stop();
      await w.fleetlockd?.stop();
      await w.etcd?.stop();
      await rm(w.dir, { recursive: true, force: true });
    },
  };
}
