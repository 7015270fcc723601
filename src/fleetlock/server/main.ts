#!/usr/bin/env node
// alt-fleetlockd: the FleetLock reboot-lock server (composition root). See docs/usage/fleetlock-server.md.
import { systemClock, type MonotonicClock } from '../../common/clock.js';
import { errorChain } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { simulationClockFromEnv, SIM_CLOCK_ENV } from '../../common/sim-clock.js';
import { loadConfigFile, parseServerArgs, USAGE, type ServerArgs } from './args.js';
import type { StoreConfig } from './config.js';
import { openEmbeddedStore } from './embedded-store.js';
import { openEtcdStore } from './etcd-store.js';
import { listen, createFleetLockService } from './service.js';
import { createLockStore, type LockStore } from './store.js';
import { loadEtcdClientMaterial, loadServerTls, type ServerTlsMaterial } from './tls.js';

/** Opens the configured store behind the serialising LockStore. */
export async function openStore(cfg: StoreConfig, logger: Logger, clock: MonotonicClock): Promise<LockStore> {
  if (cfg.kind === 'embedded') {
    const backend = await openEmbeddedStore({
      stateDir: cfg.stateDir,
      monotonicMs: () => clock.monotonicMs(),
      onTornTail: (n) => logger.warn({ bytes: n }, 'journal: dropped a torn last record (crash during a write that was never acknowledged)'),
    });
    return createLockStore(backend);
  }
  const material = await loadEtcdClientMaterial(cfg);
  const backend = await openEtcdStore({ endpoints: cfg.endpoints, prefix: cfg.prefix, timeoutMs: cfg.timeoutMs, ...material });
  return createLockStore(backend);
}

async function run(argv: string[]): Promise<number> {
  let args: ServerArgs;
  try {
    args = parseServerArgs(argv);
  } catch (err: unknown) {
    process.stderr.write(`alt-fleetlockd: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger = createLogger({ name: 'alt-fleetlockd', format: args.logFormat, level: args.logLevel });
  const config = args.config;
  // Installed first: SIGHUP's default action kills the process, and one can arrive at any time (a
  // reload right after start), also before the service exists to reload.
  let onHangup = (): void => logger.warn({}, 'SIGHUP ignored: still starting');
  process.on('SIGHUP', () => onHangup());
  // TLS files are checked before anything opens, so a bad one is a start-up error naming its key.
  let tls: ServerTlsMaterial | null;
  try {
    tls = await loadServerTls(config.tls);
  } catch (err: unknown) {
    logger.error({ err: errorChain(err) }, `invalid TLS configuration: ${errorChain(err)[0] ?? ''}`);
    return 1;
  }
  let clock: MonotonicClock;
  try {
    // The fleet simulator's clock (off in production: needs ALT_SIM_CLOCK=ipc and a Node IPC channel).
    const sim = await simulationClockFromEnv(process.env, process, () => process.kill(process.pid, 'SIGTERM'));
    if (sim !== null) logger.warn({ event: 'simulation_clock' }, `${SIM_CLOCK_ENV}=ipc: time is set by the parent process (fleet simulator only)`);
    clock = sim ?? systemClock();
  } catch (err: unknown) {
    logger.error({ err: errorChain(err) }, errorChain(err)[0] ?? 'bad simulation clock');
    return 2;
  }
  let store: LockStore;
  try {
    store = await openStore(config.store, logger, clock);
  } catch (err: unknown) {
    logger.error({ err: errorChain(err) }, `cannot open the ${config.store.kind} lock store`);
    return 1;
  }
  const service = createFleetLockService({ config, store, clock, logger });
  let server;
  try {
    server = await listen(config, service, tls);
  } catch (err: unknown) {
    logger.error({ err: errorChain(err) }, `cannot listen on ${config.listen.host}:${config.listen.port}`);
    await store.close();
    return 1;
  }
  const stop = new AbortController();
  const sweeper = service.runSweeper(stop.signal);
  // A failed journal write leaves the file's tail unknown, and the store then refuses every change.
  // Exit so systemd restarts the server and the replay decides (Restart=on-failure); etcd errors are
  // transient and only show in /healthz.
  const watchdog = setInterval(() => {
    if (store.engine !== 'embedded') return;
    store.health().catch((err: unknown) => {
      logger.error({ err: errorChain(err) }, 'embedded store failed; exiting so a restart replays the journal');
      process.exit(1);
    });
  }, 5000);
  watchdog.unref();
  const source = args.source;
  onHangup = () => {
    // Without a file there is nothing to re-read, but SIGHUP must not kill the server either.
    if (source.kind !== 'file') {
      logger.warn({}, 'SIGHUP ignored: started without --config, nothing to reload');
      return;
    }
    try {
      service.reload(loadConfigFile(source.path));
    } catch (err: unknown) {
      logger.error({ err: errorChain(err) }, 'configuration reload failed; keeping the old configuration');
    }
  };
  logger.info(
    { event: 'listening', url: server.url, store: store.engine, groups: [...config.groups.keys()] },
    'alt-fleetlockd listening',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  logger.info({ event: 'stopping' }, 'alt-fleetlockd stopping');
  stop.abort();
  clearInterval(watchdog);
  await server.close();
  await sweeper;
  await store.close();
  return 0;
}

process.exitCode = await run(process.argv.slice(2));
