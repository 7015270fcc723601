// The bootc host driver: the rpm-ostree requests alt-ostreed serves, mapped onto bootc 1.12+
// (`upgrade --download-only` stages locked, `upgrade --from-downloaded` unlocks, `rollback`; a
// rebase to another image name is `switch --download-only`, where bootc has it: rebase.ts). The
// checks and failure texts follow rpm-ostree where clients match on them (operations.ts does the same
// for plain ostree). bootc stages what the booted image's tag points at, so a requested digest is
// verified after staging and a mismatch is discarded, never left for the next boot.
import { assertNever } from '../../../common/errors.js';
import type { Logger } from '../../../common/logger.js';
import type { DriverWork, HostDriver, HostSnapshot } from '../driver.js';
import { TransactionFailure } from '../errors.js';
import type { CleanupRequest, DeployRequest, FinalizeRequest, RollbackRequest, WorkRequest } from '../requests.js';
import type { BootcCli, BootcRead } from './cli.js';
import { planSwitch } from './rebase.js';
import { bootcState, imageName, imageOfReference, transportRef } from './state.js';
import type { BootcEntry, BootcHost } from './status.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The digest a Deploy revision asks for: `sha256:<hex>` or `<name>@sha256:<hex>` (a graph payload);
 * null for "whatever the tag points at" (Upgrade). Anything else is not an image revision.
 */
export function requestedDigest(revision: string | null): { name: string | null; digest: string } | null {
  if (revision === null) return null;
  const at = revision.lastIndexOf('@');
  const digest = (at >= 0 ? revision.slice(at + 1) : revision).toLowerCase();
  if (!DIGEST.test(digest)) throw new TransactionFailure(`The bootc driver deploys image digests (sha256:<64 hex> or <image>@sha256:<64 hex>), got '${revision}'`);
  return { name: at >= 0 ? revision.slice(0, at) : null, digest };
}

/** The one log line and failure text for a host booted from a locally built image (APM's rebuild mode). */
export function localImageText(booted: BootcEntry): string {
  return `host boots a locally built image (${booted.image ? transportRef(booted.image.ref) : '?'}): updates are left to APM (apm system image update); alt-ostreed changes nothing`;
}

/** Options of {@link bootcDriver}. */
export interface BootcDriverOptions {
  readonly cli: BootcCli;
  /** Stateroot for entries older bootc prints without one. */
  readonly defaultStateroot: string;
  readonly logger: Logger;
}

/** Creates the bootc driver. */
export function bootcDriver(opts: BootcDriverOptions): HostDriver {
  const { cli } = opts;
  const wrap = (read: BootcRead): HostSnapshot => {
    const out: HostSnapshot = { state: bootcState(read.host, opts.defaultStateroot), raw: read.raw };
    return out;
  };
  const status = async (): Promise<HostSnapshot> => wrap(await cli.status());

  async function deploy(w: DriverWork, host: BootcHost, req: DeployRequest): Promise<HostSnapshot | null> {
    if (req.revision === '' && req.registerDriver !== null) {
      w.progress.message('Empty string revision found; registering update driver only');
      return w.snapshot;
    }
    const booted = host.booted;
    if (!booted?.image) throw new TransactionFailure('Booted deployment is not a container image (bootc driver)');
    if (booted.image.ref.transport === 'containers-storage') throw new TransactionFailure(localImageText(booted));
    if (booted.incompatible) throw new TransactionFailure('Booted deployment has local rpm-ostree changes bootc does not understand (incompatible)');
    const bootedName = imageName(booted.image.ref.image);
    const wanted = requestedDigest(req.revision);
    const asked = req.refspec ?? wanted?.name ?? null;
    const target = asked !== null ? imageOfReference(asked) : null;
    // A rebase (Zincati's `rpm-ostree rebase`): the graph's next release lives under another name.
    const rebase = target !== null && imageName(target) !== bootedName;
    const name = rebase ? imageName(target) : bootedName;
    const shown = wanted ? `${name}@${wanted.digest}` : (target ?? booted.image.ref.image);
    const staged = host.staged;
    const stagedName = staged?.image ? imageName(staged.image.ref.image) : null;
    if (wanted && staged?.image?.digest === wanted.digest && stagedName === name && staged.locked === req.lockFinalization) {
      w.progress.message('No change.');
      return w.snapshot;
    }
    if (wanted && !rebase && booted.image.digest === wanted.digest && !staged) {
      w.progress.message('No change.');
      return w.snapshot;
    }
    if (req.downloadOnly || req.dryRun) {
      w.progress.message('Update not staged (download-only or dry-run is not mapped onto bootc)');
      return w.snapshot;
    }
    const caps = await cli.capabilities();
    const plan = rebase ? planSwitch(booted.image.ref, target, wanted?.digest ?? null, req.lockFinalization, caps) : null;
    if (!rebase && req.lockFinalization && !caps.downloadOnly) {
      throw new TransactionFailure(`bootc ${caps.version ?? '(unknown version)'} has no 'upgrade --download-only' (bootc >= 1.12): cannot stage with finalization locked`);
    }
    const lineOpts = { signal: w.signal, onLine: (l: string) => w.progress.message(l) };
    w.progress.taskBegin(plan ? `Rebasing to ${plan.target} (${shown})` : `Staging ${shown}`);
    if (plan) await cli.switch(plan.flags, plan.target, shown, lineOpts);
    else await cli.upgrade(req.lockFinalization ? ['--download-only'] : [], shown, lineOpts);
    w.progress.taskEnd('done');
    const after = await cli.status();
    const now = after.host.staged;
    const followed = plan?.target ?? booted.image.ref.image;
    if (!now?.image) {
      throw new TransactionFailure(
        plan
          ? `bootc staged nothing for the rebase to ${plan.target}`
          : `bootc staged nothing: ${booted.image.ref.image} points at the booted image ${booted.image.digest}${wanted ? `, not ${wanted.digest}` : ''}`,
      );
    }
    const discard = async (why: string): Promise<never> => {
      await cli.discardStaged();
      w.progress.message(`Discarded the staged deployment: ${why}`);
      throw new TransactionFailure(why);
    };
    if (imageName(now.image.ref.image) !== name) await discard(`Staged image ${now.image.ref.image} is not under the requested name ${name}; discarded`);
    if (wanted && now.image.digest !== wanted.digest) {
      await discard(`Staged image digest ${now.image.digest} is not the requested ${wanted.digest} (the tag ${followed} moved); discarded`);
    }
    if (req.lockFinalization && !now.locked) await discard('bootc staged the image without the finalization lock; discarded');
    w.progress.message(`Staging deployment...done${req.lockFinalization ? ' (finalization locked)' : ''}`);
    if (!req.reboot) return wrap(after);
    await w.reboot();
    return null;
  }

  async function finalize(w: DriverWork, host: BootcHost, req: FinalizeRequest): Promise<HostSnapshot | null> {
    const first = w.snapshot.state.deployments[0];
    const staged = host.staged;
    if (!first?.staged || !staged) throw new TransactionFailure('No pending staged deployment found');
    if (first.osname !== w.osname) throw new TransactionFailure(`Staged deployment is not for osname '${w.osname}'`);
    if (req.checksum === null && !req.allowMissingChecksum) throw new TransactionFailure('Missing expected checksum');
    // As rpm-ostree for container origins: the expected value may be the image digest.
    if (req.checksum !== null && req.checksum !== staged.checksum && req.checksum !== staged.image?.digest) {
      throw new TransactionFailure(`Expected staged base checksum ${req.checksum}, but found ${staged.image?.digest ?? staged.checksum}`);
    }
    if (!staged.locked && !req.allowUnlocked) throw new TransactionFailure('Staged deployment already unlocked');
    if (staged.locked) {
      const caps = await cli.capabilities();
      if (!caps.fromDownloaded) throw new TransactionFailure(`bootc ${caps.version ?? '(unknown version)'} has no 'upgrade --from-downloaded' (bootc >= 1.12)`);
      await cli.upgrade(['--from-downloaded'], staged.image?.digest ?? staged.checksum, { signal: w.signal });
      w.progress.message('Deployment unlocked for finalization');
    }
    w.progress.message('Initiating reboot');
    await w.reboot();
    return null;
  }

  async function cleanup(w: DriverWork, host: BootcHost, req: CleanupRequest): Promise<HostSnapshot | null> {
    let changed = false;
    if (req.elements.includes('pending-deploy') && host.staged) {
      w.progress.message(`Removing deployment ${host.staged.checksum}.${host.staged.serial}`);
      await cli.discardStaged();
      changed = true;
    } else if (req.elements.includes('pending-deploy')) {
      w.progress.message('Deployments unchanged.');
    }
    // bootc keeps its rollback and prunes images itself: nothing else is mapped.
    if (req.elements.includes('rollback-deploy')) w.progress.message('Rollback deployment kept (bootc manages it)');
    return changed ? status() : w.snapshot;
  }

  async function rollback(w: DriverWork, host: BootcHost, req: RollbackRequest): Promise<HostSnapshot | null> {
    if (host.staged) throw new TransactionFailure('Staged deployment (remove with cleanup -p)');
    if (!host.rollback) throw new TransactionFailure('No rollback deployment found');
    w.progress.message(`Moving '${host.rollback.checksum}.${host.rollback.serial}' to be first deployment`);
    await cli.rollback({ signal: w.signal, onLine: (l: string) => w.progress.message(l) });
    if (!req.reboot) return status();
    await w.reboot();
    return null;
  }

  return {
    kind: 'bootc',
    status,
    async run(given: DriverWork, req: WorkRequest) {
      // bootc has no guarded mutation (the ostree driver's re-check in one shell): read the host again
      // so the checks judge what is there now, not the service's last snapshot (APM or an operator may
      // have staged something else since, and an unlock must never hit a deployment nobody checked).
      const read = await cli.status();
      const w: DriverWork = { ...given, snapshot: wrap(read) };
      const host = read.host;
      switch (req.kind) {
        case 'deploy':
          return deploy(w, host, req);
        case 'finalize':
          return finalize(w, host, req);
        case 'cleanup':
          return cleanup(w, host, req);
        case 'rollback':
          return rollback(w, host, req);
        default:
          return assertNever('work request', req);
      }
    },
    async describe() {
      const caps = await cli.capabilities();
      const booted = (await cli.status()).host.booted;
      if (booted?.image?.ref.transport === 'containers-storage') opts.logger.warn({ image: booted.image.ref.image }, localImageText(booted));
      return { driver: 'bootc', ...caps, booted: booted?.image ? `${transportRef(booted.image.ref)}@${booted.image.digest}` : null };
    },
  };
}

/** True when bootc's host document says the host boots from an image (the probe for `driver = "auto"`). */
export function bootsFromImage(host: BootcHost): boolean {
  return host.booted?.image != null;
}
