// The work of each transaction kind, on top of the ostree driver. Checks and failure texts follow
// rpm-ostree (rpmostreed-transaction-types.cxx) where clients match on them.
import { assertNever } from '../../common/errors.js';
import { TransactionFailure } from './errors.js';
import { isStale, type OstreeCli, type SysrootSnapshot } from './ostree-cli.js';
import type { CleanupRequest, DeployRequest, FinalizeRequest, RollbackRequest, WorkRequest } from './requests.js';
import { parseRevision, splitRefspec } from './revision.js';
import { buildState, queryDeploymentsFor, type BackendDeployment } from './state.js';

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
  /** The daemon's last snapshot; guarded mutations fail as stale if the disk moved on since. */
  readonly snapshot: SysrootSnapshot;
}

/** The sysroot after the work: a snapshot taken by the last mutation, or null (re-read it). */
export type WorkOutcome = SysrootSnapshot | null;

function timeText(secs: number): string {
  return new Date(secs * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '+00:00');
}

async function task<T>(ctx: WorkContext, title: string, fn: () => Promise<T>): Promise<T> {
  ctx.progress.taskBegin(title);
  const out = await fn();
  ctx.progress.taskEnd('done');
  return out;
}

async function deploy(ctx: WorkContext, req: DeployRequest): Promise<WorkOutcome> {
  const state = buildState(ctx.snapshot);
  if (req.revision === '' && req.registerDriver !== null) {
    ctx.progress.message('Empty string revision found; registering update driver only');
    return ctx.snapshot;
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
    if (req.cacheOnly) throw new TransactionFailure('cache-only upgrades are not supported by alt-ostreed');
    checksum = (await task(ctx, `Receiving metadata for ${origin}`, () => ctx.cli.pull(remote, split.ref, null, opts))).checksum;
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
    const wanted = checksum;
    if (!req.cacheOnly) await task(ctx, `Pulling ${checksum}`, () => ctx.cli.pull(remote, split.ref, wanted, opts));
  }
  ctx.progress.progressEnd();

  const target = await ctx.cli.commit(checksum);
  if (!req.allowDowngrade && target.timestampSecs < merge.timestampSecs) {
    throw new TransactionFailure(
      `Upgrade target revision '${checksum}' with timestamp '${timeText(target.timestampSecs)}' is chronologically older than ` +
        `current revision '${merge.checksum}' with timestamp '${timeText(merge.timestampSecs)}'; use --allow-downgrade to permit`,
    );
  }
  if (merge.checksum === checksum && (!merge.staged || merge.finalizationLocked === req.lockFinalization)) {
    ctx.progress.message('No change.');
    return ctx.snapshot;
  }
  if (req.downloadOnly) {
    ctx.progress.message('Update downloaded.');
    return ctx.snapshot;
  }
  if (req.dryRun) return ctx.snapshot;
  const after = await task(ctx, 'Staging deployment', () =>
    ctx.cli.stage(
      { osname: ctx.osname, refspec: origin, checksum, overrideCommit: req.revision !== null, lockFinalization: req.lockFinalization },
      ctx.snapshot.raw,
      { signal: ctx.signal, onLine: (l: string) => ctx.progress.message(l) },
    ),
  );
  ctx.progress.message(`Staging deployment...done${req.lockFinalization ? ' (finalization locked)' : ''}`);
  if (!req.reboot) return after;
  await ctx.reboot();
  return null;
}

async function finalize(ctx: WorkContext, req: FinalizeRequest): Promise<WorkOutcome> {
  const state = buildState(ctx.snapshot);
  const first = state.deployments[0];
  if (!first?.staged) throw new TransactionFailure('No pending staged deployment found');
  if (first.osname !== ctx.osname) throw new TransactionFailure(`Staged deployment is not for osname '${ctx.osname}'`);
  if (req.checksum === null && !req.allowMissingChecksum) throw new TransactionFailure('Missing expected checksum');
  if (req.checksum !== null && req.checksum !== first.checksum) {
    throw new TransactionFailure(`Expected staged base checksum ${req.checksum}, but found ${first.checksum}`);
  }
  if (!first.finalizationLocked && !req.allowUnlocked) throw new TransactionFailure('Staged deployment already unlocked');
  // As rpm-ostree: with allow-unlocked, an unlocked deployment (an earlier finalize whose reboot
  // failed) is not unlocked again; only the reboot is retried.
  if (first.finalizationLocked) {
    await ctx.cli.unlock(ctx.snapshot.raw);
    ctx.progress.message('Deployment unlocked for finalization');
  }
  ctx.progress.message('Initiating reboot');
  await ctx.reboot();
  return null;
}

async function cleanup(ctx: WorkContext, req: CleanupRequest): Promise<WorkOutcome> {
  const state = buildState(ctx.snapshot);
  const { pending, rollback } = queryDeploymentsFor(state, ctx.osname);
  const remove: BackendDeployment[] = [];
  if (req.elements.includes('pending-deploy') && pending) remove.push(pending);
  if (req.elements.includes('rollback-deploy') && rollback) remove.push(rollback);
  for (const d of remove) ctx.progress.message(`Removing deployment ${d.checksum}.${d.serial}`);
  if (remove.length === 0 && (req.elements.includes('pending-deploy') || req.elements.includes('rollback-deploy'))) {
    ctx.progress.message('Deployments unchanged.');
  }
  // rpm-ostree adds `base` implicitly when deployments are removed.
  const prune = req.elements.includes('base') || remove.length > 0;
  if (remove.length === 0 && !prune) return ctx.snapshot;
  return task(ctx, 'Cleaning up', () => ctx.cli.undeploy(remove.map((d) => d.index), prune, ctx.snapshot.raw));
}

async function rollback(ctx: WorkContext, req: RollbackRequest): Promise<WorkOutcome> {
  const state = buildState(ctx.snapshot);
  if (state.deployments.some((d) => d.staged)) throw new TransactionFailure('Staged deployment (remove with cleanup -p)');
  const { pending, rollback: back } = queryDeploymentsFor(state, ctx.osname);
  if (!back && !pending) throw new TransactionFailure('No rollback deployment found');
  // With only a pending deployment, rpm-ostree puts the booted one back on top.
  const target = back ?? state.booted;
  if (!target) throw new TransactionFailure('Not currently booted into an OSTree system');
  ctx.progress.message(`Moving '${target.checksum}.${target.serial}' to be first deployment`);
  let after: SysrootSnapshot = ctx.snapshot;
  if (state.deployments[0]?.id !== target.id) {
    const r = await ctx.cli.rollback(ctx.osname, ctx.snapshot.entries[target.index]!, ctx.snapshot.raw);
    if (r.how === 'redeploy') ctx.progress.message('Rollback emulated by re-deploying the commit (python3-gi OSTree missing)');
    after = r.snapshot;
  }
  if (!req.reboot) return after;
  await ctx.reboot();
  return null;
}

function dispatch(ctx: WorkContext, req: WorkRequest): Promise<WorkOutcome> {
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

/**
 * Runs the work of one transaction against the daemon's snapshot. When that snapshot turns out to be
 * out of date (a guarded mutation found the disk changed, or a check failed on it), re-reads the
 * sysroot and runs the work once more: checks always end up evaluated on the state they mutate.
 */
export async function runWork(ctx: WorkContext, req: WorkRequest): Promise<WorkOutcome> {
  try {
    return await dispatch(ctx, req);
  } catch (err: unknown) {
    if (!isStale(err) && !(err instanceof TransactionFailure)) throw err;
    const fresh = await ctx.cli.status();
    if (fresh.raw === ctx.snapshot.raw) throw err;
    ctx.progress.message('Sysroot changed since it was last read; re-reading');
    return dispatch({ ...ctx, snapshot: fresh }, req);
  }
}
