#!/usr/bin/env node
// alt-graphd composition root: the only place that builds the real clock and logger.
import { systemClock, type Clock } from '../common/clock.js';
import { errorChain } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
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
  const clock = config.nowSecs === null ? systemClock() : shiftedClock(systemClock(), config.nowSecs);
  let running;
  try {
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
