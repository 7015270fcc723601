#!/usr/bin/env node
// alt-updated-health: the boot health verdict, run once per boot by alt-updated-health.service
// (Before=boot-complete.target). Loads the agent's configuration, runs the checks, decides over the
// trial record and acts: disarm, reboot for another attempt, roll back through alt-ostreed, accept a
// fallback, or stop at "manual intervention required". Exit codes: 0 healthy (boot-complete.target
// is reached and the agent starts), 1 unhealthy or undecidable, 2 usage.
import { spawn } from 'node:child_process';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../common/clock.js';
import { errorChain } from '../common/errors.js';
import { createLogger, type LogFormat } from '../common/logger.js';
import { loadSettings } from '../config/load.js';
import { createNotifier } from '../agent/operator/notify.js';
import { createOstreeClient } from '../ostree/client/index.js';
import type { DeploymentSet } from '../ostree/deployment.js';
import { runHealth, type HealthRunResult } from './boot.js';
import { HealthError } from './errors.js';
import { fileHealthStore, readBootId, RECORD_FILE } from './store.js';
import { runChecks, runHooks, type SuiteOptions } from './suite.js';

const USAGE = 'usage: alt-updated-health [--root DIR] [--bus-address ADDR] [--log-format journal|json] [--log-level LEVEL] [--reboot-command JSON-ARGV]';
/** The MOTD line shown while the boot is red, relative to the root. */
export const HEALTH_MOTD = 'run/motd.d/86-alt-updated-health.motd';

function rebootArgv(json: string | undefined): string[] {
  if (json === undefined) return ['systemctl', 'reboot'];
  const v: unknown = JSON.parse(json);
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x !== '')) {
    throw new HealthError('HEALTH_USAGE', '--reboot-command: expected a JSON array of non-empty strings');
  }
  return v as string[];
}

function runArgv(argv: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited with ${String(code)}`))));
  });
}

async function main(argv: string[]): Promise<number> {
  let flags;
  let reboot: string[];
  try {
    flags = parseArgs({
      args: argv,
      options: {
        root: { type: 'string', default: '/' },
        'bus-address': { type: 'string' },
        'log-format': { type: 'string', default: 'journal' },
        'log-level': { type: 'string', default: process.env.ALT_UPDATED_LOG_LEVEL ?? 'info' },
        'reboot-command': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
    reboot = rebootArgv(flags['reboot-command']);
  } catch (err: unknown) {
    process.stderr.write(`alt-updated-health: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const format: LogFormat = flags['log-format'] === 'json' ? 'json' : 'journal';
  const logger = createLogger({ name: 'alt-updated-health', level: flags['log-level'], format });
  const root = flags.root;
  const clock = systemClock();

  let settings;
  try {
    settings = (await loadSettings({ root })).settings;
  } catch (err: unknown) {
    logger.error({ event: 'config_invalid', err: errorChain(err) }, `failed to assemble configuration settings: ${errorChain(err).join(': ')}`);
    return 1;
  }
  if (!settings.health.enabled) {
    logger.info({ event: 'health_disabled' }, 'health checks disabled by configuration (health.enabled = false)');
    return 0;
  }
  const busAddress = flags['bus-address'];
  const ostree = createOstreeClient({ clock, logger, clientId: 'alt-updated-health', ...(busAddress === undefined ? {} : { busAddress }) });
  const suite: SuiteOptions = { root, timeoutMs: settings.health.checkTimeoutSecs * 1000, requiredUnits: settings.health.requiredUnits, clock, logger };
  const motdPath = join(root, HEALTH_MOTD);
  try {
    const bootId = await readBootId(root);
    const result = await runHealth(
      {
        store: fileHealthStore(join(root, settings.health.stateDir, RECORD_FILE)),
        clock,
        logger,
        deployments: () => deploymentsWithRetry(() => ostree.status(), (ms) => clock.sleep(ms)),
        runChecks: () => runChecks(suite),
        runHooks: (set) => runHooks(suite, set),
        rollback: () => ostree.rollback({ reboot: true }),
        removePending: () => ostree.cleanupPending(),
        reboot: async () => {
          logger.info({ event: 'health_rebooting', command: reboot.join(' ') }, 'rebooting');
          await runArgv(reboot);
        },
        motd: async (text) => {
          if (text === null) await unlink(motdPath).catch(() => undefined);
          else await mkdir(dirname(motdPath), { recursive: true }).then(() => writeFile(motdPath, text));
        },
      },
      bootId,
    );
    // STATUS= for `systemctl status alt-updated-health` (the unit has NotifyAccess=all).
    await createNotifier({ env: process.env, pid: process.pid, logger }).status(`${result.healthy ? 'GREEN' : 'RED'}: ${STATUS_TEXT[result.action]}`);
    return result.healthy ? 0 : 1;
  } catch (err: unknown) {
    logger.error({ event: 'health_run_failed', err: errorChain(err) }, `health verdict failed: ${errorChain(err).join(': ')}`);
    return 1;
  } finally {
    await ostree.close().catch(() => undefined);
  }
}

/** One line per action for STATUS=. */
const STATUS_TEXT: Record<HealthRunResult['action'], string> = {
  healthy: 'boot is healthy',
  wait_reboot: 'update armed in this boot, waiting for its reboot',
  disarm_healthy: 'the new release is healthy',
  disarm_stale: 'the armed update never booted; judged this boot alone',
  reboot_retry: 'unhealthy; rebooting for another attempt',
  rollback: 'unhealthy after every attempt; rolling back',
  reboot_after_rollback: 'rolled back; rebooting',
  rolled_back: 'rolled back to the previous release',
  accept_fallback: 'booted another deployment than the update; release recorded as failed',
  manual_intervention: 'manual intervention required',
};

/** The backend may still be starting at boot: a few attempts, 1, 2, 4 … 16 s apart. */
async function deploymentsWithRetry(status: () => Promise<DeploymentSet>, sleep: (ms: number) => Promise<void>): Promise<DeploymentSet> {
  for (let attempt = 0, delay = 1000; ; attempt++, delay *= 2) {
    try {
      return await status();
    } catch (err: unknown) {
      if (attempt >= 5) throw err;
      await sleep(delay);
    }
  }
}

process.exitCode = await main(process.argv.slice(2));
