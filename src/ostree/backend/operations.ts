// The work of each transaction kind, on top of the ostree driver. Checks and failure texts follow
// rpm-ostree (rpmostreed-transaction-types.cxx) where clients match on them.
import { assertNever } from '../../common/errors.js';
import { TransactionFailure } from './errors.js';
import type { OstreeCli } from './ostree-cli.js';
import type { CleanupRequest, DeployRequest, FinalizeRequest, RollbackRequest, WorkRequest } from './requests.js';
import { parseRevision, splitRefspec } from './revision.js';
import { buildState, queryDeploymentsFor, type BackendDeployment, type BackendState } from './state.js';

/** Where a transaction's progress goes (the Transaction signals). */
export interface ProgressSink {
  message(text: string): void;
  taskBegin(text: string): void;
  taskEnd(text: string): void;
  percent(text: string, percentage: number): void;
  progressEnd(): void;
}

/** Everything the work needs. */
export interface WorkContext {
  readonly cli: OstreeCli;
  readonly osname: string;
  /** Configured remote; null = the origin refspec's remote. */
  readonly remote: string | null;
  readonly progress: ProgressSink;
  readonly signal: AbortSignal;
  /** Initiates the reboot (logind / the test hook). */
  readonly reboot: () => Promise<void>;
}

async function fresh(ctx: WorkContext): Promise<BackendState> {
  return buildState(await ctx.cli.status());
}

function timeText(secs: number): string {
  return new Date(secs * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '+00:00');
}

async function task<T>(ctx: WorkContext, title: string, fn: () => Promise<T>): Promise<T> {
  ctx.progress.taskBegin(title);
  const out = await fn();
  ctx.progress.taskEnd('done');
  return out;
}

async function deploy(ctx: WorkContext, req: DeployRequest): Promise<void> {
  const state = await fresh(ctx);
  if (req.revision === '' && req.registerDriver !== null) {
    ctx.progress.message('Empty string revision found; registering update driver only');
    return;
  }
  const { pending } = queryDeploymentsFor(state, ctx.osname);
  const booted = state.booted?.osname === ctx.osname ? state.booted : null;
  const merge = pending ?? booted;
  if (!merge) throw new TransactionFailure(`No deployments found for os ${ctx.osname}`);
  const refspec = req.refspec ?? merge.origin;
  if (!refspec) throw new TransactionFailure('Deployment has no origin refspec');
  const split = splitRefspec(refspec);
  const remote = ctx.remote ?? split.remote;
  if (!remote) throw new TransactionFailure(`Origin refspec '${refspec}' has no remote`);
  const origin = `${remote}:${split.ref}`;
  const opts = { signal: ctx.signal, onLine: (l: string) => ctx.progress.message(l) };

  let checksum: string;
  if (req.revision === null) {
    if (!req.cacheOnly) await task(ctx, `Receiving metadata for ${origin}`, () => ctx.cli.pull(remote, split.ref, null, opts));
    checksum = await ctx.cli.revParse(remote, split.ref);
  } else {
    const rev = parseRevision(req.revision);
    if (rev.kind === 'checksum' && req.skipBranchCheck) {
      checksum = rev.checksum;
    } else {
      const history = await task(ctx, `Resolving ${req.revision} in ${origin}`, () => ctx.cli.history(remote, split.ref, opts));
      const hit = history.find((c) => (rev.kind === 'checksum' ? c.checksum === rev.checksum : c.version === rev.version));
      if (!hit) {
        throw new TransactionFailure(
          rev.kind === 'checksum' ? `Checksum ${rev.checksum} not found in ${split.ref}` : `Version ${rev.version} not found in ${split.ref}`,
        );
      }
      checksum = hit.checksum;
    }
    if (!req.cacheOnly) await task(ctx, `Pulling ${checksum}`, () => ctx.cli.pull(remote, split.ref, checksum, opts));
  }
  ctx.progress.progressEnd();

  const target = await ctx.cli.commit(checksum);
  if (!req.allowDowngrade && target.timestampSecs < merge.timestampSecs) {
    throw new TransactionFailure(
      `Upgrade target revision '${checksum}' with timestamp '${timeText(target.timestampSecs)}' is chronologically older than ` +
        `current revision '${merge.checksum}' with timestamp '${timeText(merge.timestampSecs)}'; use --allow-downgrade to permit`,
    );
  }
  if (merge.checksum === checksum && merge.staged === true && merge.finalizationLocked === req.lockFinalization) {
    ctx.progress.message('No change.');
    return;
  }
  if (merge.checksum === checksum && !merge.staged) {
    ctx.progress.message('No change.');
    return;
  }
  if (req.downloadOnly) {
    ctx.progress.message('Update downloaded.');
    return;
  }
  if (req.dryRun) return;
  await task(ctx, 'Staging deployment', () =>
    ctx.cli.stage({
      osname: ctx.osname,
      refspec: origin,
      checksum,
      overrideCommit: req.revision !== null,
      lockFinalization: req.lockFinalization,
    }),
  );
  ctx.progress.message(`Staging deployment...done${req.lockFinalization ? ' (finalization locked)' : ''}`);
  if (req.reboot) await ctx.reboot();
}

async function finalize(ctx: WorkContext, req: FinalizeRequest): Promise<void> {
  const state = await fresh(ctx);
  const first = state.deployments[0];
  if (!first?.staged) throw new TransactionFailure('No pending staged deployment found');
  if (first.osname !== ctx.osname) throw new TransactionFailure(`Staged deployment is not for osname '${ctx.osname}'`);
  if (req.checksum === null && !req.allowMissingChecksum) throw new TransactionFailure('Missing expected checksum');
  if (req.checksum !== null && req.checksum !== first.checksum) {
    throw new TransactionFailure(`Expected staged base checksum ${req.checksum}, but found ${first.checksum}`);
  }
  if (!first.finalizationLocked && !req.allowUnlocked) throw new TransactionFailure('Staged deployment already unlocked');
  await ctx.cli.setFinalizationLock(false);
  ctx.progress.message('Deployment unlocked for finalization');
  ctx.progress.message('Initiating reboot');
  await ctx.reboot();
}

async function cleanup(ctx: WorkContext, req: CleanupRequest): Promise<void> {
  const state = await fresh(ctx);
  const { pending, rollback } = queryDeploymentsFor(state, ctx.osname);
  const remove: BackendDeployment[] = [];
  if (req.elements.includes('pending-deploy') && pending) remove.push(pending);
  if (req.elements.includes('rollback-deploy') && rollback) remove.push(rollback);
  // Highest index first, so earlier indexes stay valid.
  for (const d of remove.sort((a, b) => b.index - a.index)) {
    await task(ctx, `Removing deployment ${d.checksum}.${d.serial}`, () => ctx.cli.undeploy(d.index));
  }
  if (remove.length === 0 && (req.elements.includes('pending-deploy') || req.elements.includes('rollback-deploy'))) {
    ctx.progress.message('Deployments unchanged.');
  }
  if (req.elements.includes('base') || remove.length > 0) await task(ctx, 'Cleaning up', () => ctx.cli.cleanup());
}

async function rollback(ctx: WorkContext, req: RollbackRequest): Promise<void> {
  const state = await fresh(ctx);
  if (state.deployments.some((d) => d.staged)) throw new TransactionFailure('Staged deployment (remove with cleanup -p)');
  const { pending, rollback: back } = queryDeploymentsFor(state, ctx.osname);
  if (!back && !pending) throw new TransactionFailure('No rollback deployment found');
  // With only a pending deployment, rpm-ostree puts the booted one back on top.
  const target = back ?? state.booted;
  if (!target) throw new TransactionFailure('Not currently booted into an OSTree system');
  ctx.progress.message(`Moving '${target.checksum}.${target.serial}' to be first deployment`);
  if (state.deployments[0]?.id !== target.id) {
    const snapshot = await ctx.cli.status();
    const entry = snapshot.entries[target.index]!;
    const how = await ctx.cli.rollback(ctx.osname, entry, { signal: ctx.signal });
    if (how === 'redeploy') ctx.progress.message('Rollback emulated by re-deploying the commit (python3-gi OSTree missing)');
  }
  if (req.reboot) await ctx.reboot();
}

/** Runs the work of one transaction; rejects with TransactionFailure or a driver error. */
export async function runWork(ctx: WorkContext, req: WorkRequest): Promise<void> {
  switch (req.kind) {
    case 'deploy':
      return deploy(ctx, req);
    case 'finalize':
      return finalize(ctx, req);
    case 'cleanup':
      return cleanup(ctx, req);
    case 'rollback':
      return rollback(ctx, req);
    default:
      return assertNever('work request', req);
  }
}
