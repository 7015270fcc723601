// The fleet simulation: N nodes (the agent's real core over a SimulatedHost each) against the real
// alt-graphd and alt-fleetlockd processes, on one virtual clock. Records a timeline, checks the
// invariants at every reboot and every time step, injects the planned faults, and sums up with counts
// read from the servers.
import { Agent as HttpAgent } from 'undici';
import { ManualClock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { StrategyLabel } from '../config/types.js';
import { asNodeUuid } from '../identity/node-id.js';
import { checkFaults, scheduleFaults, type FaultRecord, type FaultSpec } from './faults.js';
import { heldByHalt, type GroupHalt, type SimHaltPolicy } from './halt.js';
import { SimulatedHost } from './host.js';
import { bootAgent, fleetSettings, simIdentity, type AgentTiming, type BootedAgent, type ClientCounters } from './node.js';
import { seededRandom, percentile } from './random.js';
import { SimScheduler } from './scheduler.js';
import type { SimCalendar } from './windows.js';
import { SIM_BASEARCH, startWorld, type World } from './world.js';

/** What to simulate. */
export interface SimulationOptions {
  readonly nodes: number;
  /** alt-fleetlockd's store: embedded, or a fresh etcd cluster of 1 or 3 members. @default embedded */
  readonly store?: { readonly kind: 'embedded' } | { readonly kind: 'etcd'; readonly members: 1 | 3 };
  /** FleetLock slots of the one group (used by `fleet_lock`). */
  readonly slots: number;
  readonly strategy: StrategyLabel;
  /** Rollout of the new release over this many minutes; null: offered to every node at once. */
  readonly rolloutMinutes: number | null;
  /** Virtual seconds a reboot takes (finalize to the new agent's first tick). */
  readonly rebootSecs: number;
  /** Virtual seconds a stage takes. */
  readonly stageSecs: number;
  /** Probability 0..1 that a node's boot into the new release fails its health verdict (then it rolls back). */
  readonly failRate: number;
  /** Virtual seconds between timeline rows. */
  readonly stepSecs: number;
  /** Give up after this much virtual time. */
  readonly maxVirtualSecs: number;
  readonly seed: number;
  /** `periodic`: the nodes' `[updates.periodic]` calendar (time zone and weekly windows). */
  readonly periodic: SimCalendar;
  /**
   * Slots alt-fleetlockd is configured with, when not `slots` (only to show the invariant check
   * catching a server that grants more slots than planned). @default slots
   */
  readonly serverSlots?: number;
  /** The agents' poll intervals (`[agent.timing]`). @default the shipped 300 s steady, 300 s staged */
  readonly timing?: AgentTiming;
  /** alt-fleetlockd's halt policy for the group (`fleet_lock`); null: failures never halt it. @default null */
  readonly halt?: SimHaltPolicy | null;
  /** Servers killed and restarted during the run. @default [] */
  readonly faults?: readonly FaultSpec[];
  /** Logger for the agents (warnings and errors only are worth showing; the servers log to files). */
  readonly logger: Logger;
}

/** One timeline row: the fleet at a virtual instant. */
export interface TimelineRow {
  /** Virtual seconds since the start. */
  readonly t: number;
  /** Nodes up, by booted release version. */
  readonly releases: Readonly<Record<string, number>>;
  /** Nodes up with a staged deployment. */
  readonly staged: number;
  /** Nodes rebooting (down). */
  readonly rebooting: number;
  /** Holders of the group's slots, as the lock store says (null without a lock server). */
  readonly lockHolders: number | null;
}

/** The `--json` summary. */
export interface SimulationSummary {
  nodes: number;
  strategy: StrategyLabel;
  slots: number | null;
  /** alt-fleetlockd's store engine (`embedded`, `etcd`), null without a lock server. */
  lock_store: string | null;
  arrived: number;
  rolled_back: number;
  max_concurrent_reboots: number;
  duration_virtual_s: number;
  duration_wall_s: number;
  lock_requests: number;
  lock_latency_ms_p50: number | null;
  lock_latency_ms_p99: number | null;
  graph_requests: number;
  /** Requests of the nodes that failed (connection refused, 5xx, timeouts): expected during faults. */
  graph_errors: number;
  lock_errors: number;
  /** Peak resident memory (VmHWM) of alt-graphd, of alt-fleetlockd, of the largest etcd member, MiB. */
  graph_server_rss_mib: number;
  lock_server_rss_mib: number | null;
  etcd_member_rss_mib: number | null;
  /** What the faults did, in order. */
  faults: FaultRecord[];
  /** The halt policy's `halt_after_failures`, null without one. */
  halt_after: number | null;
  /** Whether the group halted; when (virtual seconds) and why; how many nodes it held on the previous release. */
  halted: boolean;
  halted_at_s: number | null;
  halt_reason: string | null;
  held: number;
  finished: boolean;
  invariants_ok: boolean;
  violations: string[];
}

/** Everything a run produced. */
export interface SimulationResult {
  readonly summary: SimulationSummary;
  readonly timeline: readonly TimelineRow[];
  /** What the nodes' clients counted (the summary's request counts are the servers'). */
  readonly client: { readonly graphRequests: number; readonly lockRequests: number };
  readonly newest: string;
  readonly previous: string;
}

interface SimNode {
  readonly index: number;
  readonly id: string;
  readonly host: SimulatedHost;
  boot: BootedAgent | null;
  down: boolean;
}

const START_MS = Date.UTC(2026, 11, 3, 0, 0, 0);
const STEADY = new Set(['reported_steady', 'no_new_update']);
const MAX_VIOLATIONS = 20;

/** Runs one simulation to the end (every node settled) or to `maxVirtualSecs`. */
export async function simulate(o: SimulationOptions): Promise<SimulationResult> {
  const wallStart = performance.now();
  const clock = new ManualClock(START_MS);
  const sched = new SimScheduler(clock);
  const fleetLock = o.strategy === 'fleet_lock';
  const store = o.store ?? { kind: 'embedded' };
  const faults = o.faults ?? [];
  checkFaults(faults, { lockServer: fleetLock, etcd: store.kind === 'etcd' });
  const world: World = await startWorld({ slots: fleetLock ? (o.serverSlots ?? o.slots) : null, rolloutMinutes: o.rolloutMinutes, store, clock, halt: fleetLock ? (o.halt ?? null) : null });
  // One connection pool for all nodes: N nodes need not mean 2N sockets into one process.
  const dispatcher = new HttpAgent({ connections: 64 });
  const counters: ClientCounters = { graphRequests: 0, lockRequests: 0, graphErrors: 0, lockErrors: 0, lockLatencyMs: [] };
  const faultRecords: FaultRecord[] = [];
  const violations: string[] = [];
  const violate = (msg: string): void => void (violations.length < MAX_VIOLATIONS && violations.push(msg));
  let maxDown = 0;
  const timeline: TimelineRow[] = [];
  try {
    const settings = fleetSettings({ strategy: o.strategy, graphUrl: world.graphUrl, lockUrl: world.lockUrl, periodic: o.periodic, ...(o.timing === undefined ? {} : { timing: o.timing }) });
    const nodes: SimNode[] = [];
    const tSecs = (): number => Math.round((clock.nowMs() - START_MS) / 1000);
    const holders = (): Promise<string[] | null> => (fleetLock ? world.holders() : Promise.resolve(null));
    scheduleFaults(sched, world, faults, clock.monotonicMs(), tSecs, faultRecords);

    const life = async (n: SimNode): Promise<void> => {
      const rng = seededRandom(o.seed * 1_000_003 + n.index);
      // Nodes were up before the release: each polls at its own phase of the steady interval.
      await sched.sleep(Math.floor(rng() * settings.agent.timing.steadyIntervalSecs * 1000));
      let rolledBackFrom: string | null = null;
      for (;;) {
        const inputs = { settings, identity: simIdentity(asNodeUuid(n.id)), host: n.host, clock, random: rng, logger: o.logger, dispatcher, counters, rolledBackFrom };
        const boot = bootAgent(inputs);
        n.boot = boot;
        for (;;) {
          const { delayMs } = await boot.agent.step();
          if (n.host.pendingReboot !== null) break;
          if (delayMs > 0) await sched.sleep(delayMs);
        }
        const plan = n.host.takeReboot()!;
        n.down = true;
        const down = nodes.filter((x) => x.down).length;
        maxDown = Math.max(maxDown, down);
        if (fleetLock) {
          if (down > o.slots) violate(`t=${tSecs()}s: ${down} nodes rebooting, more than ${o.slots} slots`);
          const held = await holders();
          if (held !== null && !held.includes(n.id)) violate(`t=${tSecs()}s: node ${n.index} rebooted without holding a slot`);
        }
        await boot.close();
        n.boot = null;
        await sched.sleep(o.rebootSecs * 1000);
        n.host.bootInto(plan);
        rolledBackFrom = null;
        if (plan.fails) {
          // The health verdict fails at boot: the host rolls back to the previous deployment (one more reboot).
          await sched.sleep(o.rebootSecs * 1000);
          n.host.rollBack(plan.into, world.previous);
          rolledBackFrom = plan.into.version;
        }
        n.down = false;
      }
    };

    for (let i = 0; i < o.nodes; i++) {
      const rng = seededRandom(o.seed * 7919 + i);
      const id = Array.from({ length: 4 }, () => Math.floor(rng() * 2 ** 32).toString(16).padStart(8, '0')).join('');
      const failRng = seededRandom(o.seed * 104_729 + i);
      const host = new SimulatedHost(world.previous, {
        stageMs: o.stageSecs * 1000,
        sleep: (ms) => sched.sleep(ms),
        failsHealth: (r) => r.payload === world.newest.payload && failRng() < o.failRate,
        basearch: SIM_BASEARCH,
      });
      const n: SimNode = { index: i, id, host, boot: null, down: false };
      nodes.push(n);
      sched.spawn(() => life(n));
    }

    // A halted group holds its waiting nodes on the previous release until an operator resumes it: the run ends there.
    const watchHalt = fleetLock && (o.halt ?? null) !== null;
    let halt: GroupHalt | null = null;
    const failedNewest = (n: SimNode): boolean => n.host.failedReleases.some((f) => f.payload === world.newest.payload);
    const held = (n: SimNode): boolean =>
      halt !== null && heldByHalt({ down: n.down, state: n.boot?.agent.state.kind ?? null, booted: n.host.bootedVersion, failedNewest: failedNewest(n) }, world.previous.version);
    const settled = (n: SimNode): boolean =>
      (!n.down && n.boot !== null && STEADY.has(n.boot.agent.state.kind) && (n.host.bootedVersion === world.newest.version || failedNewest(n))) || held(n);
    let nextRow = START_MS;
    const row = (atMs: number, held: string[] | null): void => {
      const releases: Record<string, number> = {};
      let staged = 0;
      let down = 0;
      for (const n of nodes) {
        if (n.down) down++;
        else {
          releases[n.host.bootedVersion] = (releases[n.host.bootedVersion] ?? 0) + 1;
          if (n.host.hasStaged) staged++;
        }
      }
      const t = Math.round((atMs - START_MS) / 1000);
      if (held !== null && held.length > o.slots) violate(`t=${t}s: the lock store has ${held.length} holders, more than ${o.slots} slots`);
      timeline.push({ t, releases, staged, rebooting: down, lockHolders: held === null ? null : held.length });
    };
    const finished = await sched.run(
      () => nodes.every(settled),
      o.maxVirtualSecs * 1000,
      async (toMs) => {
        if (watchHalt && halt === null) halt = await world.halted();
        // The fleet does not change between wake-ups: every row up to the jump shows it as it is now.
        if (nextRow >= toMs) return;
        const held = await holders();
        for (; nextRow < toMs; nextRow += o.stepSecs * 1000) row(nextRow, held);
      },
      // The servers' clocks follow before any node wakes (each acknowledges).
      () => world.syncClocks(),
    );
    row(clock.nowMs(), await holders());
    const durationMs = clock.nowMs() - START_MS;

    if (watchHalt && halt === null) halt = await world.halted();
    // Final invariant: the newest release everywhere, except where it failed (then the previous one)
    // or where a halted group holds the node back.
    let arrived = 0;
    let rolledBack = 0;
    let heldBack = 0;
    for (const n of nodes) {
      const failed = failedNewest(n);
      if (n.host.bootedVersion === world.newest.version) arrived++;
      else if (failed && n.host.bootedVersion === world.previous.version) rolledBack++;
      else if (held(n)) heldBack++;
      else if (finished) violate(`node ${n.index} ended on ${n.host.bootedVersion}, neither the newest nor a rollback`);
    }
    if (!finished) violate(`not finished after ${o.maxVirtualSecs} virtual seconds: ${nodes.filter((n) => !settled(n)).length} nodes not settled`);
    await Promise.all(nodes.map((n) => n.boot?.close()));
    const server = await world.serverCounts();
    const memory = await world.memory();
    const mib = (n: number): number => Math.round(n * 10) / 10;
    const summary: SimulationSummary = {
      nodes: o.nodes,
      strategy: o.strategy,
      slots: fleetLock ? o.slots : null,
      lock_store: world.lockEngine,
      arrived,
      rolled_back: rolledBack,
      max_concurrent_reboots: maxDown,
      duration_virtual_s: Math.round(durationMs / 1000),
      duration_wall_s: Math.round((performance.now() - wallStart) / 100) / 10,
      lock_requests: server.lockRequests,
      lock_latency_ms_p50: percentile(counters.lockLatencyMs, 0.5),
      lock_latency_ms_p99: percentile(counters.lockLatencyMs, 0.99),
      graph_requests: server.graphRequests,
      graph_errors: counters.graphErrors,
      lock_errors: counters.lockErrors,
      graph_server_rss_mib: mib(memory.graphd),
      lock_server_rss_mib: memory.fleetlockd === null ? null : mib(memory.fleetlockd),
      etcd_member_rss_mib: memory.etcd === null ? null : mib(memory.etcd),
      faults: faultRecords,
      halt_after: watchHalt ? o.halt!.afterFailures : null,
      halted: halt !== null,
      halted_at_s: halt === null ? null : Math.round((halt.sinceMs - START_MS) / 1000),
      halt_reason: halt?.reason ?? null,
      held: heldBack,
      finished,
      invariants_ok: violations.length === 0,
      violations,
    };
    return {
      summary,
      timeline,
      client: { graphRequests: counters.graphRequests, lockRequests: counters.lockRequests },
      newest: world.newest.version,
      previous: world.previous.version,
    };
  } finally {
    await dispatcher.close();
    await world.close();
  }
}
