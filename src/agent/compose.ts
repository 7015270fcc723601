// Composition root of the agent: the only place that builds real adapters (HTTP dispatchers, D-Bus
// connections, sd_notify, Prometheus) and wires them into the pure core. main.ts handles the process.
import { join } from 'node:path';
import type { Clock } from '../common/clock.js';
import { errorChain } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Settings } from '../config/types.js';
import { expandUrlTemplate } from '../config/template.js';
import { ConfigError } from '../config/errors.js';
import { createFleetLockClient } from '../fleetlock/client.js';
import { createGraphClient } from '../graph/client.js';
import { createDeadendMotd } from '../graph/deadend.js';
import { resolveIdentity } from '../identity/resolve.js';
import { identityTemplateVars } from '../identity/template-vars.js';
import type { Identity } from '../identity/identity.js';
import { streamFromRef, type DeploymentSet } from '../ostree/deployment.js';
import { createStrategy } from '../strategies/registry.js';
import { WeeklyCalendar } from '../strategies/periodic/calendar.js';
import { fileHealthStore, readBootId, RECORD_FILE } from '../health/store.js';
import { graphPort } from './adapters/graph.js';
import { healthPort, reportPendingVerdict, slotReleaseHealth } from './adapters/health.js';
import { lockPort } from './adapters/lock.js';
import { sessionPort } from './adapters/sessions.js';
import { Agent } from './loop.js';
import { loadAgentTls } from './tls.js';
import type { AgentMetrics } from './operator/metrics.js';
import type { Notifier } from './operator/notify.js';
import { createLogindProbe } from './operator/sessions.js';
import type { OstreePort } from './ports.js';

/** Process-level facts the composition root needs. */
export interface ComposeOptions {
  /** Root of the config tree and of the runtime paths (`/` in production). */
  readonly root: string;
  /** Explicit system bus address (tests, demo); null = the system bus. */
  readonly busAddress: string | null;
  /** Validated settings. */
  readonly settings: Settings;
  /** The backend port (already connected). */
  readonly ostree: OstreePort;
  /** Deployments read at start-up: the booted stream feeds identity. */
  readonly deployments: DeploymentSet;
  /** Process logger. */
  readonly logger: Logger;
  /** Time source. */
  readonly clock: Clock;
  /** Uniform random in [0, 1). */
  readonly random: () => number;
  /** Environment (proxies). */
  readonly env: NodeJS.ProcessEnv;
  /** sd_notify; main.ts built it to send READY=1 before the backend answered. */
  readonly notifier: Notifier;
  /** The metrics registry; main.ts built it so the start-up deployments queries are counted. */
  readonly metrics: AgentMetrics & { render(): string };
}

/** The wired agent and what must be closed with it. */
export interface ComposedAgent {
  /** The agent. */
  readonly agent: Agent;
  /** Resolved node identity. */
  readonly identity: Identity;
  /** Renders the Prometheus exposition text. */
  readonly renderMetrics: () => string;
  /** Releases sockets and clients. */
  close(): Promise<void>;
}

/** Resolves identity, builds every adapter and the agent. Throws typed config/identity errors. */
export async function composeAgent(o: ComposeOptions): Promise<ComposedAgent> {
  const { settings, logger } = o;
  const bootedStream = streamFromRef(o.deployments.booted?.origin ?? null);
  const identity = await resolveIdentity({ root: o.root, settings, bootedStream });
  const vars = identityTemplateVars(identity);
  const { metrics } = o;
  metrics.identity({
    osVersion: o.deployments.booted?.version ?? '',
    basearch: identity.basearch.value,
    stream: identity.stream.value,
    platform: identity.platform.value ?? '',
    rolloutWariness: identity.rolloutWariness.value,
  });

  if (settings.cincinnati.baseUrl === null && settings.updates.enabled) {
    throw new ConfigError('CONFIG_INVALID', 'cincinnati.base_url: expected a URL, got nothing (set it in a config.d fragment)', {
      key: 'cincinnati.base_url',
    });
  }
  // CA, certificate and key files are checked here, at start-up, not at the first request.
  const tls = await loadAgentTls({ root: o.root, settings, logger });
  // With updates disabled and no URL the agent never checks (it only reports steady, then idles):
  // the client is built on an unused placeholder so the wiring stays the same in both cases.
  const graphClient = createGraphClient({
    tls: tls.graph,
    baseUrl: expandUrlTemplate(settings.cincinnati.baseUrl ?? 'http://127.0.0.1/', vars),
    env: o.env,
  });
  const fleetBase = settings.updates.fleetLock.baseUrl;
  const fleetClient =
    fleetBase === null
      ? null
      : createFleetLockClient({ baseUrl: expandUrlTemplate(fleetBase, vars), token: settings.updates.fleetLock.token, tls: tls.fleetLock });
  const healthStore = settings.health.enabled ? fileHealthStore(join(o.root, settings.health.stateDir, RECORD_FILE)) : null;
  // The boot was judged before the agent started (alt-updated-health.service, RequiredBy=
  // boot-complete.target: the agent runs only on a healthy boot): tell the fleet. The reboot slot is
  // released only after that report went out, so the lock server can halt the group (a rollback)
  // before another node gets the slot, and only when the record says this boot is healthy.
  const verdictSent =
    healthStore !== null && fleetClient !== null
      ? reportPendingVerdict(healthStore, (v) => fleetClient.reportVerdict({ id: identity.nodeUuid.value, group: identity.group.value }, v), logger)
      : Promise.resolve();
  const strategy = createStrategy({
    settings,
    logger,
    lock: fleetClient === null ? null : lockPort(fleetClient, metrics),
    lockParams: { id: identity.nodeUuid.value, group: identity.group.value },
    healthy: healthStore === null ? () => verdictSent.then(() => true) : slotReleaseHealth(healthStore, () => readBootId(o.root), verdictSent, logger),
  });
  metrics.configured({
    updatesEnabled: settings.updates.enabled,
    allowDowngrade: settings.updates.allowDowngrade,
    strategy: settings.updates.strategy,
    periodicScheduleLengthMinutes:
      settings.updates.periodic.windows.length > 0 ? new WeeklyCalendar(settings.updates.periodic.windows).scheduleLengthMinutes : null,
  });
  const probe = createLogindProbe({ busAddress: o.busAddress });
  const motd = createDeadendMotd({ path: join(o.root, 'run/motd.d/85-alt-updated-deadend.motd') });
  const agent = new Agent({
    settings,
    clock: o.clock,
    random: o.random,
    logger,
    graph: graphPort(graphClient, identity, metrics),
    ostree: o.ostree,
    strategy,
    sessions: sessionPort(probe, logger, { nowMs: () => o.clock.nowMs() }),
    notifier: o.notifier,
    metrics,
    deadend: motd,
    ...(healthStore === null ? {} : { health: healthPort(healthStore, () => readBootId(o.root), settings.health.bootAttempts) }),
    overrideInteractiveCheckPath: join(o.root, 'run/alt-updated/override-interactive-check'),
  });
  return {
    agent,
    identity,
    renderMetrics: () => metrics.render(),
    async close() {
      probe.close();
      await graphClient.close().catch((err: unknown) => logger.warn({ err: errorChain(err) }, 'failed to close the graph client'));
      await fleetClient?.close().catch(() => undefined);
    },
  };
}
