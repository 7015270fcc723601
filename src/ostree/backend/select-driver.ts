// Chooses the host driver at start-up (composition root helper): `driver = "auto"` takes bootc when
// the bootc executable exists and bootc reports the booted deployment as an image, else plain ostree.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Logger } from '../../common/logger.js';
import { BootcCli } from './bootc/cli.js';
import { bootcDriver, bootsFromImage } from './bootc/driver.js';
import type { CommandRunner } from './command.js';
import type { BackendConfig } from './config.js';
import type { HostDriver } from './driver.js';
import { BackendConfigError } from './errors.js';
import { OstreeCli } from './ostree-cli.js';
import { ostreeDriver } from './ostree-driver.js';

/** Everything the choice needs. */
export interface DriverChoiceDeps {
  readonly config: BackendConfig;
  readonly sysroot: string;
  /** Runs ostree commands (with the configured prefix). */
  readonly runOstree: CommandRunner;
  /** Runs bootc (no prefix). */
  readonly runBootc: CommandRunner;
  /** Stateroot for bootc entries without one. */
  readonly defaultStateroot: string;
  readonly logger: Logger;
}

/** Probes the host and builds its driver. */
export async function chooseDriver(d: DriverChoiceDeps): Promise<HostDriver> {
  const ostree = (): HostDriver => ostreeDriver(new OstreeCli({ sysroot: d.sysroot, run: d.runOstree }), d.config.remote);
  if (d.config.driver === 'ostree') return ostree();
  const present = await access(d.config.bootcPath, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!present) {
    if (d.config.driver === 'bootc') throw new BackendConfigError(`bootc.driver is "bootc" but ${d.config.bootcPath} is not an executable`);
    return ostree();
  }
  const cli = new BootcCli({ bootc: d.config.bootcPath, sysroot: d.sysroot, runBootc: d.runBootc, runOstree: d.runOstree, policy: d.config.signaturePolicy });
  const { host } = await cli.status();
  if (!bootsFromImage(host)) {
    if (d.config.driver === 'bootc') throw new BackendConfigError('bootc.driver is "bootc" but bootc reports no booted image');
    d.logger.info({ bootc: d.config.bootcPath }, 'bootc present but the booted deployment is not an image: using the ostree driver');
    return ostree();
  }
  return bootcDriver({ cli, defaultStateroot: d.defaultStateroot, logger: d.logger });
}
