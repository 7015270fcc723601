#!/usr/bin/env node
// alt-ostreed: serves org.projectatomic.rpmostree1 on top of a host driver -- the ostree CLI, or bootc
// on a bootc host (select-driver.ts) -- (composition root).
//
//   alt-ostreed [--bus-address ADDR] [--sysroot PATH] [--osname NAME] [--config FILE]
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { connectBus } from '../../dbus/bus.js';
import { errorChain } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { processRunner } from './command.js';
import { loadBackendConfig, resolveUids } from './config.js';
import { OstreeCommandError } from './errors.js';
import { readRpmOstreeXml } from '../rpmostree-xml.js';
import { BackendService } from './service.js';
import { chooseDriver } from './select-driver.js';

/** Default config file. */
export const DEFAULT_CONFIG_FILE = '/etc/alt-updated/alt-ostreed.toml';

function runReboot(argv: readonly string[], logger: Logger): Promise<void> {
  logger.info({ command: argv.join(' ') }, 'rebooting');
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (err) => reject(new OstreeCommandError(argv, null, err.message, err)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new OstreeCommandError(argv, code, `Failed to initiate reboot: ${stderr}`))));
  });
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'bus-address': { type: 'string' },
      sysroot: { type: 'string', default: '/' },
      osname: { type: 'string' },
      config: { type: 'string' },
      'log-format': { type: 'string', default: 'journal' },
    },
    strict: true,
  });
  const logger = createLogger({ name: 'alt-ostreed', format: values['log-format'] === 'json' ? 'json' : 'journal' });
  const config = await loadBackendConfig(values.config ?? DEFAULT_CONFIG_FILE);
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const { uids, unknown } = resolveUids(config.users, passwd);
  if (unknown.length > 0) logger.warn({ users: unknown }, 'authorised users not found in /etc/passwd; ignored');
  const xml = await readRpmOstreeXml();
  const driver = await chooseDriver({
    config,
    sysroot: values.sysroot,
    runOstree: processRunner(config.commandPrefix),
    runBootc: processRunner([]),
    defaultStateroot: values.osname ?? 'default',
    logger,
  });
  logger.info(await driver.describe(), `host driver: ${driver.kind}`);
  const bus = await connectBus({
    ...(values['bus-address'] ? { address: values['bus-address'] } : {}),
    onError: (err) => logger.warn({ err: errorChain(err).join(': ') }, 'bus error'),
  });
  const service = new BackendService({
    bus,
    xml,
    driver,
    config,
    sysrootPath: values.sysroot,
    osname: values.osname ?? null,
    allowedUids: uids,
    logger,
    reboot: () => runReboot(config.rebootCommand, logger),
  });
  await service.start();
  logger.info({ sysroot: values.sysroot }, 'alt-ostreed ready');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await service.stop();
  bus.disconnect();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`alt-ostreed: ${errorChain(err).join(': ')}\n`);
    process.exit(1);
  },
);
