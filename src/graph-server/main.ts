#!/usr/bin/env node
// alt-graphd composition root: the only place that builds the real clock and logger.
import { systemClock, type Clock } from '../common/clock.js';
import { errorChain } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { simulationClockFromEnv, SIM_CLOCK_ENV } from '../common/sim-clock.js';
import { GRAPHD_USAGE, loadGraphdConfig } from './config.js';
import { startGraphd } from './server.js';

/** A real-time clock shifted so that it reads `startSecs` at process start (`--now`). */
function shiftedClock(base: Clock, startSecs: number): Clock {
  const offset = startSecs * 1000 - base.nowMs();
  return { nowMs: () => base.nowMs() + offset, sleep: (ms, signal) => base.sleep(ms, signal) };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${GRAPHD_USAGE}\n`);
    return 0;
  }
  const logger = createLogger({ name: 'alt-graphd', format: process.env.ALT_GRAPHD_LOG_FORMAT === 'json' ? 'json' : 'journal' });
  let config;
  try {
    config = await loadGraphdConfig(argv);
  } catch (err: unknown) {
    process.stderr.write(`alt-graphd: ${errorChain(err).join(': ')}\n`);
    return 2;
  }
  let running;
  try {
    // The fleet simulator's clock (off in production: needs ALT_SIM_CLOCK=ipc and a Node IPC channel).
    const sim = await simulationClockFromEnv(process.env, process, () => process.kill(process.pid, 'SIGTERM'));
    if (sim !== null) logger.warn({ event: 'simulation_clock' }, `${SIM_CLOCK_ENV}=ipc: time is set by the parent process (fleet simulator only)`);
    const clock = sim ?? (config.nowSecs === null ? systemClock() : shiftedClock(systemClock(), config.nowSecs));
    running = await startGraphd(config, { clock, logger });
  } catch (err: unknown) {
    logger.error({ error: errorChain(err).join(': ') }, 'alt-graphd failed to start');
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await running.close();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
