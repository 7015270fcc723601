#!/usr/bin/env -S node --max-semi-space-size=1 --liftoff-only --no-opt --no-sparkplug --expose-gc --compact-on-every-full-gc
// The flags above keep an agent that idles for minutes between short polls small. NODE_OPTIONS
// refuses most of them and setFlagsFromString after start-up does not give their saving, so they
// live in the entry point itself; tests spawn the agent with them (test/helpers/testbed-node.ts):
// --max-semi-space-size=1: a 1 MiB young generation; the default 16 MiB stays resident.
// --liftoff-only: undici's llhttp WebAssembly parser stays in the baseline tier; tiering it up costs
//   about 10 MiB that is never returned, for a parser that reads a few KiB per poll.
// --no-opt: no TurboFan for JavaScript (about 5 MiB); a 10,000-release graph then selects in ~70 ms
//   instead of ~30 ms, once per poll.
// --no-sparkplug: no baseline compiler either (about 0.7 MiB of code space); JavaScript stays in
//   the interpreter, which is fast enough for one short poll per steady interval.
// --expose-gc: the agent collects its garbage after each tick (idle-gc.ts); without it the old
//   generation climbs by ~10 MiB of promoted poll garbage before V8 collects it on its own.
// --compact-on-every-full-gc: that collection also compacts, so freed pages go back to the system.
// Measured by bench/agent-idle.mjs (docs/development/benchmarks.md).
// alt-updated: the update agent daemon. Parses flags, loads and validates configuration, tells
// systemd READY=1, waits for the update backend, composes the agent (compose.ts) and runs it until
// SIGTERM. Exit codes: 0 after a
// clean stop, 1 on invalid configuration or identity (systemd restarts it with Restart=on-failure).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../common/clock.js';
import { errorChain } from '../common/errors.js';
import { createLogger, type LogFormat, type Logger } from '../common/logger.js';
import { loadSettings } from '../config/load.js';
import { createOstreeClient } from '../ostree/client/index.js';
import type { DeploymentSet } from '../ostree/deployment.js';
import { ostreePort } from './adapters/ostree.js';
import { composeAgent } from './compose.js';
import { createIdleCollector } from './idle-gc.js';
import { createAgentMetrics } from './operator/metrics.js';
import { createNotifier } from './operator/notify.js';
import { startOperatorSurface } from './operator/surface.js';
import { backendWaitText } from './status.js';

const USAGE = 'usage: alt-updated [--root DIR] [--bus-address ADDR] [--log-format journal|json] [--log-level LEVEL]';

/**
 * Waits for the backend's deployments with capped exponential backoff (1 s .. 60 s), until `signal`
 * aborts; `onFailure(n)` runs after the n-th failed attempt (the STATUS= update).
 */
async function waitForDeployments(
  status: () => Promise<DeploymentSet>,
  log: Logger,
  sleep: (ms: number, signal: AbortSignal) => Promise<void>,
  signal: AbortSignal,
  onFailure: (failedAttempts: number) => Promise<void>,
): Promise<DeploymentSet | null> {
  for (let attempt = 0, delay = 1000; !signal.aborted; attempt++, delay = Math.min(delay * 2, 60_000)) {
    try {
      const set = await status();
      if (set.booted !== null) return set;
      log.error({ event: 'deployments_query_failed', attempt }, 'no booted deployment found; the host is not updatable yet');
    } catch (err: unknown) {
      log.error({ event: 'deployments_query_failed', attempt, err: errorChain(err).join(': ') }, 'failed to query local deployments; retrying');
    }
    await onFailure(attempt + 1);
    await sleep(delay, signal).catch(() => undefined);
  }
  return null;
}

async function main(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        root: { type: 'string', default: '/' },
        'bus-address': { type: 'string' },
        'log-format': { type: 'string', default: 'journal' },
        'log-level': { type: 'string', default: process.env.ALT_UPDATED_LOG_LEVEL ?? 'info' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err: unknown) {
    process.stderr.write(`alt-updated: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const format: LogFormat = flags['log-format'] === 'json' ? 'json' : 'journal';
  const logger = createLogger({ name: 'alt-updated', level: flags['log-level'], format });
  const root = flags.root;
  const busAddress = flags['bus-address'] ?? null;
  const clock = systemClock();
  const abort = new AbortController();
  const stop = (sig: string): void => {
    logger.info({ signal: sig }, `received ${sig}, stopping`);
    abort.abort();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  let loaded;
  try {
    loaded = await loadSettings({ root });
  } catch (err: unknown) {
    logger.error({ event: 'config_invalid', err: errorChain(err) }, `failed to assemble configuration settings: ${errorChain(err).join(': ')}`);
    return 1;
  }
  for (const w of loaded.warnings) logger.warn({ event: 'config_warning', ...w }, w.message);
  logger.info({ fragments: loaded.fragments }, `configuration loaded from ${loaded.fragments.length} fragment(s)`);
  const { settings } = loaded;

  // READY=1 as soon as the configuration is valid: a Type=notify unit whose backend is slow to answer
  // must not hit its start timeout and be killed and restarted in a loop. STATUS= says what we wait for.
  const notifier = createNotifier({ env: process.env, pid: process.pid, logger });
  await notifier.ready(backendWaitText(0));
  const metrics = createAgentMetrics({ processStartMs: clock.nowMs() });
  const ostree = createOstreeClient({ clock, logger, ...(busAddress === null ? {} : { busAddress }) });
  const port = ostreePort(ostree, metrics);
  const deployments = await waitForDeployments(() => port.status(), logger, (ms, s) => clock.sleep(ms, s), abort.signal, (n) =>
    notifier.status(backendWaitText(n)),
  );
  if (deployments === null) {
    await notifier.stopping();
    await ostree.close().catch(() => undefined);
    return 0;
  }

  let composed;
  try {
    composed = await composeAgent({ root, busAddress, settings, ostree: port, deployments, logger, clock, random: Math.random, env: process.env, notifier, metrics });
  } catch (err: unknown) {
    logger.error({ event: 'config_invalid', err: errorChain(err) }, `failed to assemble configuration settings: ${errorChain(err).join(': ')}`);
    await ostree.close().catch(() => undefined);
    return 1;
  }
  const { agent, identity } = composed;
  logger.info(
    { nodeUuid: identity.nodeUuid.value, group: identity.group.value, stream: identity.stream.value, basearch: identity.basearch.value },
    `agent running on ${identity.basearch.value}/${identity.stream.value}, group '${identity.group.value}'`,
  );

  let surface;
  try {
    surface = await startOperatorSurface({
      port: agent,
      busAddress,
      renderMetrics: composed.renderMetrics,
      metricsListen: settings.agent.metrics.listen,
      metricsSocketPath: join(root, 'run/alt-updated/public/metrics.promsock'),
      logger,
    });
  } catch (err: unknown) {
    logger.error({ event: 'metrics_unavailable', err: errorChain(err) }, `failed to start the metrics endpoint: ${errorChain(err).join(': ')}`);
    await composed.close();
    await ostree.close().catch(() => undefined);
    return 1;
  }
  const idleGc = createIdleCollector({ gc: (globalThis as { gc?: () => void }).gc });
  const unsubscribe = agent.onChange(() => {
    surface.publish();
    idleGc.afterTick();
  });
  await agent.run(abort.signal);
  unsubscribe();
  idleGc.close();
  await surface.close();
  await composed.close();
  await ostree.close().catch(() => undefined);
  logger.info({}, 'stopped');
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
