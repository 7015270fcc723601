// One simulated node: the agent's real core assembled as src/agent/compose.ts assembles it (real
// settings validation, strategy registry, graph client and port, FleetLock client and lock port),
// over a SimulatedHost instead of rpm-ostree, with no logind sessions, no sd_notify and no MOTD. A
// reboot discards the agent and its clients; the next boot builds new ones, as a real boot does.
import type { Dispatcher } from 'undici';
import { graphPort } from '../agent/adapters/graph.js';
import { lockPort } from '../agent/adapters/lock.js';
import { Agent } from '../agent/loop.js';
import { noopMetrics, type Logger, type SessionPort } from '../agent/ports.js';
import type { ManualClock } from '../common/clock.js';
import { settingsFromFragments } from '../config/load.js';
import { parseFragment } from '../config/fragments.js';
import type { Settings, StrategyLabel } from '../config/types.js';
import { createFleetLockClient } from '../fleetlock/client.js';
import { createGraphClient } from '../graph/client.js';
import type { Identity } from '../identity/identity.js';
import type { NodeUuid } from '../identity/node-id.js';
import { createStrategy } from '../strategies/registry.js';
import type { LockPort } from '../strategies/types.js';
import type { SimulatedHost } from './host.js';
import { calendarToml, type SimCalendar } from './windows.js';
import { SIM_BASEARCH, SIM_STREAM } from './world.js';

/** Agent settings shared by every node of a run. */
export interface FleetConfig {
  readonly strategy: StrategyLabel;
  readonly graphUrl: string;
  readonly lockUrl: string | null;
  /** `[updates.periodic]` for `periodic`: the time zone and the `[[updates.periodic.window]]` entries. */
  readonly periodic: SimCalendar;
  /** `[agent.timing]`: how often the agents poll, steady and staged. @default the shipped 300 s, 300 s */
  readonly timing?: AgentTiming;
}

/** The agent's poll intervals (`agent.timing.steady_interval_secs`, `staged_interval_secs`). */
export interface AgentTiming {
  readonly steadyIntervalSecs: number;
  readonly stagedIntervalSecs: number;
}

/** The settings every simulated agent runs with, validated by the real config code. */
export function fleetSettings(c: FleetConfig): Settings {
  const lines = ['[cincinnati]', `base_url = ${JSON.stringify(c.graphUrl)}`, '[updates]', `strategy = "${c.strategy}"`];
  if (c.lockUrl !== null) lines.push(`fleet_lock.base_url = ${JSON.stringify(c.lockUrl)}`);
  if (c.strategy === 'periodic') lines.push(...calendarToml(c.periodic));
  if (c.timing !== undefined) lines.push('[agent.timing]', `steady_interval_secs = ${c.timing.steadyIntervalSecs}`, `staged_interval_secs = ${c.timing.stagedIntervalSecs}`);
  return settingsFromFragments([parseFragment('simulator.toml', `${lines.join('\n')}\n`)]).settings;
}

function field<T>(value: T): { value: T; source: 'runtime'; detail: string } {
  return { value, source: 'runtime', detail: 'simulator' };
}

/** The identity of simulated node `uuid` (group `default`; wariness left to the graph server). */
export function simIdentity(uuid: NodeUuid): Identity {
  return {
    nodeUuid: field(uuid),
    group: field('default'),
    basearch: field(SIM_BASEARCH),
    platform: field<string | null>(null),
    stream: field(SIM_STREAM),
    rolloutWariness: field<number | null>(null),
  };
}

/** Counters every node's clients add to (client side; the servers count on their side). */
export interface ClientCounters {
  graphRequests: number;
  lockRequests: number;
  /** Requests that failed: no answer (server down, timeout) or a 5xx; a denied slot is not a failure. */
  graphErrors: number;
  lockErrors: number;
  /** Wall-clock latency of each FleetLock pre-reboot / steady-state request, ms. */
  readonly lockLatencyMs: number[];
}

const noSessions: SessionPort = {
  interactiveSessions: () => Promise.resolve([]),
  blockInhibitors: () => Promise.resolve([]),
  warn: () => Promise.resolve(),
};

function timed(port: LockPort, counters: ClientCounters): LockPort {
  const measure = async (call: () => Promise<void>): Promise<void> => {
    counters.lockRequests++;
    const t0 = performance.now();
    try {
      await call();
    } catch (err: unknown) {
      // A denied slot is an answer (4xx), not a failure; no answer or a 5xx is one.
      const status = (err as { status?: unknown }).status;
      if (!(typeof status === 'number' && status < 500)) counters.lockErrors++;
      throw err;
    } finally {
      counters.lockLatencyMs.push(performance.now() - t0);
    }
  };
  return {
    preReboot: (p, s) => measure(() => port.preReboot(p, s)),
    steadyState: (p, s) => measure(() => port.steadyState(p, s)),
  };
}

/** What one boot of a node needs. */
export interface BootInputs {
  readonly settings: Settings;
  readonly identity: Identity;
  readonly host: SimulatedHost;
  readonly clock: ManualClock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly dispatcher: Dispatcher;
  readonly counters: ClientCounters;
  /** The release this boot rolled back from, to report to the lock server before the slot is released. */
  readonly rolledBackFrom: string | null;
}

/** A booted node's agent and the clients to close when it "reboots". */
export interface BootedAgent {
  readonly agent: Agent;
  close(): Promise<void>;
}

/** Assembles the agent for one boot of a simulated node. */
export function bootAgent(b: BootInputs): BootedAgent {
  const metrics = noopMetrics();
  const graphClient = createGraphClient({ baseUrl: b.settings.cincinnati.baseUrl ?? '', dispatcher: b.dispatcher });
  const counted = graphPort(graphClient, b.identity, metrics);
  const lockBase = b.settings.updates.fleetLock.baseUrl;
  const fleet = lockBase === null ? null : createFleetLockClient({ baseUrl: lockBase, dispatcher: b.dispatcher });
  const params = { id: b.identity.nodeUuid.value, group: b.identity.group.value };
  // As compose.ts does: the verdict goes out before the slot can be released.
  const verdictSent =
    fleet !== null && b.rolledBackFrom !== null
      ? fleet.reportVerdict(params, { result: 'rolled_back', release: b.rolledBackFrom, reason: 'simulated health check failure' }).then(
          () => undefined,
          (err: unknown) => b.logger.warn({ event: 'health_verdict_report_failed', err: String(err) }, 'could not report the verdict'),
        )
      : Promise.resolve();
  const strategy = createStrategy({
    settings: b.settings,
    logger: b.logger,
    lock: fleet === null ? null : timed(lockPort(fleet, metrics), b.counters),
    lockParams: params,
    healthy: () => verdictSent.then(() => true),
    localZone: () => 'UTC',
  });
  const agent = new Agent({
    settings: b.settings,
    clock: b.clock,
    random: b.random,
    logger: b.logger,
    graph: {
      check: async (facts, signal) => {
        b.counters.graphRequests++;
        try {
          return await counted.check(facts, signal);
        } catch (err: unknown) {
          b.counters.graphErrors++;
          throw err;
        }
      },
    },
    ostree: b.host.port(),
    strategy,
    sessions: noSessions,
    notifier: { status: () => Promise.resolve(), stopping: () => Promise.resolve() },
    metrics,
    deadend: { set: () => Promise.resolve(), clear: () => Promise.resolve() },
    health: b.host.health(),
    overrideInteractiveCheckPath: '/nonexistent/simulator',
    fileExists: () => Promise.resolve(false),
  });
  return {
    agent,
    async close() {
      await verdictSent;
      await graphClient.close();
      await fleet?.close();
    },
  };
}
