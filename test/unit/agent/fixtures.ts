// In-memory port implementations for agent unit tests. They are pure test fixtures, not mocks of
// external systems: each keeps the state a real backend would and records what was asked of it.
import type { Settings } from '../../../src/config/types.js';
import type { Release } from '../../../src/graph/release.js';
import type { Deployment, DeploymentSet } from '../../../src/ostree/deployment.js';
import type { DeadendPort, GraphCheck, GraphFacts, GraphPort, InteractiveSession, Metrics, Notifier, OstreePort, SessionPort } from '../../../src/agent/ports.js';
import { noopMetrics } from '../../../src/agent/ports.js';

const hex = (c: string): string => c.repeat(64).slice(0, 64);

/** A release with a recognisable payload. */
export function release(n: number): Release {
  return { version: `2026${String(n).padStart(4, '0')}.0`, payload: hex(n.toString(16)), ageIndex: n };
}

/** Settings with defaults; override parts as needed. */
export function testSettings(over: {
  enabled?: boolean;
  strategy?: Settings['updates']['strategy'];
  maxStageAttempts?: number;
  abandonSecs?: number;
  steadyIntervalSecs?: number;
  stagedIntervalSecs?: number;
  windows?: Settings['updates']['periodic']['windows'];
  timeZone?: string;
} = {}): Settings {
  return {
    agent: { timing: { steadyIntervalSecs: over.steadyIntervalSecs ?? 300, stagedIntervalSecs: over.stagedIntervalSecs ?? 300, postponementIntervalSecs: 60 }, metrics: { listen: null } },
    cincinnati: { baseUrl: 'http://127.0.0.1:1/', caFile: null },
    identity: { group: 'default', nodeUuid: null, rolloutWariness: null, stream: null },
    updates: {
      enabled: over.enabled ?? true,
      allowDowngrade: false,
      strategy: over.strategy ?? 'immediate',
      maxStageAttempts: over.maxStageAttempts ?? 12,
      abandonSecs: over.abandonSecs ?? 86_400,
      fleetLock: { baseUrl: null, token: null, caFile: null, clientCertFile: null, clientKeyFile: null },
      periodic: { timeZone: over.timeZone ?? 'UTC', windows: over.windows ?? [] },
    },
    health: { enabled: true, requiredUnits: [], checkTimeoutSecs: 60, bootAttempts: 2, stateDir: '/var/lib/alt-updated' },
  };
}

function deployment(r: Release, o: { booted?: boolean; staged?: boolean; locked?: boolean; stream?: string; serial?: number }): Deployment {
  return {
    id: `altcos-${r.payload}.${o.serial ?? 0}`,
    osname: 'altcos',
    checksum: r.payload,
    version: r.version,
    origin: `altcos:altcos/x86_64/${o.stream ?? 'sisyphus'}`,
    stream: o.stream ?? 'sisyphus',
    timestampMs: r.ageIndex * 1000,
    serial: o.serial ?? 0,
    booted: o.booted ?? false,
    staged: o.staged ?? false,
    finalizationLocked: o.locked ?? false,
    pinned: false,
  };
}

/** An in-memory ostree backend: booted + optional rollback + optional staged deployment. */
export function memoryOstreeForTest(init: { booted: Release; rollback?: Release; staged?: { release: Release; locked: boolean; stream?: string } }) {
  const state = {
    booted: deployment(init.booted, { booted: true }),
    rollback: init.rollback ? deployment(init.rollback, { serial: 1 }) : null,
    staged: init.staged ? deployment(init.staged.release, { staged: true, locked: init.staged.locked, ...(init.staged.stream ? { stream: init.staged.stream } : {}) }) : null,
    /** Next N stage calls fail. */
    stageFailures: 0,
    stageError: null as Error | null,
    /** Stream the next staged deployment lands on. */
    stageStream: 'sisyphus',
    statusFails: false,
    finalizeFails: false,
    registerFails: 0,
    calls: [] as string[],
    finalized: null as string | null,
  };
  const set = (): DeploymentSet => {
    const ds = [state.staged, state.booted, state.rollback].filter((d): d is Deployment => d !== null);
    return { deployments: ds, booted: state.booted, staged: state.staged, rollback: state.rollback };
  };
  const port: OstreePort = {
    status() {
      state.calls.push('status');
      return state.statusFails ? Promise.reject(new Error('backend down')) : Promise.resolve(set());
    },
    registerDriver() {
      state.calls.push('registerDriver');
      if (state.registerFails > 0) {
        state.registerFails--;
        return Promise.reject(new Error('registration refused'));
      }
      return Promise.resolve();
    },
    stage(r) {
      state.calls.push(`stage:${r.version}`);
      if (state.stageFailures > 0) {
        state.stageFailures--;
        return Promise.reject(state.stageError ?? new Error('stage failed'));
      }
      state.staged = deployment(r, { staged: true, locked: true, stream: state.stageStream });
      return Promise.resolve(state.staged);
    },
    finalize(checksum) {
      state.calls.push(`finalize:${checksum.slice(0, 4)}`);
      if (state.finalizeFails) return Promise.reject(new Error('finalize failed'));
      state.finalized = checksum;
      return Promise.resolve();
    },
    cleanupPending() {
      state.calls.push('cleanupPending');
      state.staged = null;
      return Promise.resolve();
    },
  };
  return { port, state };
}

/** An in-memory update graph: one target (filtered by the denylist, as the real adapter does). */
export function memoryGraphForTest(init: { target?: Release | null } = {}) {
  const state = {
    target: init.target ?? null,
    fail: null as Error | null,
    deadend: { isDeadend: false, reason: null as string | null } as { isDeadend: boolean; reason: string | null } | null,
    facts: [] as GraphFacts[],
  };
  const port: GraphPort = {
    check(facts): Promise<GraphCheck> {
      state.facts.push(facts);
      if (state.fail) return Promise.reject(state.fail);
      const t = state.target && !facts.denylist.has(state.target.payload) ? state.target : null;
      return Promise.resolve({ target: t, deadend: state.deadend });
    },
  };
  return { port, state };
}

/** In-memory logind: sessions, block inhibitors, and the warnings written to ttys. */
export function memorySessionsForTest() {
  const state = {
    sessions: [] as InteractiveSession[],
    inhibitors: [] as string[],
    fail: false,
    warnings: [] as string[],
  };
  const port: SessionPort = {
    interactiveSessions: () => (state.fail ? Promise.reject(new Error('logind unreachable')) : Promise.resolve([...state.sessions])),
    blockInhibitors: () => (state.fail ? Promise.reject(new Error('logind unreachable')) : Promise.resolve([...state.inhibitors])),
    warn: (m) => {
      state.warnings.push(m);
      return Promise.resolve();
    },
  };
  return { port, state };
}

/** Records sd_notify messages. */
export function recordingNotifierForTest(): Notifier & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    status: (t) => (sent.push(`STATUS=${t}`), Promise.resolve()),
    stopping: () => (sent.push('STOPPING=1'), Promise.resolve()),
  };
}

/** Records metric calls by method name. */
export function countingMetricsForTest(): Metrics & { calls: Map<string, unknown[][]> } {
  const calls = new Map<string, unknown[][]>();
  const base = noopMetrics() as unknown as Record<string, unknown>;
  const rec: Record<string, unknown> = {};
  for (const name of Object.keys(base)) {
    rec[name] = (...args: unknown[]) => {
      calls.set(name, [...(calls.get(name) ?? []), args]);
    };
  }
  return Object.assign(rec as unknown as Metrics, { calls });
}

/** Records dead-end notice changes. */
export function memoryDeadendForTest(): DeadendPort & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    set: (r) => (log.push(`set:${r}`), Promise.resolve()),
    clear: () => (log.push('clear'), Promise.resolve()),
  };
}
