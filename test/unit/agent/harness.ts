// Builds an Agent over the in-memory fixtures with a ManualClock and a seeded random.
import { ManualClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { Agent } from '../../../src/agent/loop.js';
import type { HealthPort, StrategyPort } from '../../../src/agent/ports.js';
import type { StateKind } from '../../../src/agent/state.js';
import type { Settings } from '../../../src/config/types.js';
import type { Release } from '../../../src/graph/release.js';
import { seededRandom } from '../../../src/simulator/random.js';
import {
  countingMetricsForTest,
  memoryDeadendForTest,
  memoryGraphForTest,
  memoryOstreeForTest,
  memorySessionsForTest,
  recordingNotifierForTest,
  release,
  testSettings,
} from './fixtures.js';

/** A strategy whose answers the test sets. */
export function scriptedStrategyForTest() {
  const state = {
    canFinalize: true as boolean | Error,
    reportSteady: true as boolean | Error,
    steadyReports: 0,
    finalizeQuestions: 0,
    releases: 0,
  };
  const answer = (v: boolean | Error): Promise<boolean> => (v instanceof Error ? Promise.reject(v) : Promise.resolve(v));
  const port: StrategyPort = {
    label: 'immediate',
    describe: () => 'scripted',
    canFinalize: () => (state.finalizeQuestions++, answer(state.canFinalize)),
    reportSteady: () => (state.steadyReports++, answer(state.reportSteady)),
    releaseIfHeld: () => (state.releases++, Promise.resolve()),
  };
  return { port, state };
}

/** Mulberry32, the simulator's seeded PRNG: jitter in these tests is reproducible. */
export { seededRandom };

/** Everything a tick test needs. */
export function makeAgent(o: {
  booted?: Release;
  rollback?: Release;
  staged?: { release: Release; locked: boolean; stream?: string };
  target?: Release | null;
  settings?: Settings;
  strategy?: StrategyPort;
  overrideFile?: boolean;
  health?: HealthPort;
} = {}) {
  const clock = new ManualClock(Date.UTC(2026, 10, 27, 10, 0, 0));
  const ostree = memoryOstreeForTest({
    booted: o.booted ?? release(1),
    ...(o.rollback ? { rollback: o.rollback } : {}),
    ...(o.staged ? { staged: o.staged } : {}),
  });
  const graph = memoryGraphForTest({ target: o.target ?? null });
  const sessions = memorySessionsForTest();
  const notifier = recordingNotifierForTest();
  const metrics = countingMetricsForTest();
  const deadend = memoryDeadendForTest();
  const logger = memoryLogger();
  const scripted = scriptedStrategyForTest();
  const files = { override: o.overrideFile ?? false, asked: [] as string[] };
  const agent = new Agent({
    settings: o.settings ?? testSettings(),
    clock,
    random: seededRandom(42),
    logger,
    graph: graph.port,
    ostree: ostree.port,
    strategy: o.strategy ?? scripted.port,
    sessions: sessions.port,
    notifier,
    metrics,
    deadend,
    ...(o.health ? { health: o.health } : {}),
    overrideInteractiveCheckPath: '/run/test/override-interactive-check',
    fileExists: (p) => (files.asked.push(p), Promise.resolve(files.override)),
  });
  /** Steps until the agent is in `kind` (or fails after `max` steps). */
  const stepUntil = async (kind: StateKind, max = 50) => {
    for (let i = 0; i < max; i++) {
      if (agent.state.kind === kind) return;
      await agent.step();
    }
    throw new Error(`agent did not reach ${kind}; stuck in ${agent.state.kind}`);
  };
  const events = (): string[] => logger.records.map((r) => r.fields.event).filter((e): e is string => typeof e === 'string');
  return { agent, clock, ostree, graph, sessions, notifier, metrics, deadend, logger, strategy: scripted, files, stepUntil, events };
}
