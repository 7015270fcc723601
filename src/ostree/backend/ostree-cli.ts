// The ostree driver: a thin adapter running ostree 2022.7+ CLI commands (through the command prefix).
import { posix } from 'node:path';
import type { CommandOptions, CommandRunner } from './command.js';
import { OstreeCommandError } from './errors.js';
import { ROLLBACK_HELPER } from './rollback-helper.js';
import { parseAdminStatus, parseLog, parseShow, type CommitFacts, type StatusEntry } from './status-parse.js';

/** The finalization lock file that ostree 2022.7's finalize-staged honours (and rpm-ostree reads). */
export const LOCK_FILE = '/run/ostree/staged-deployment-locked';

/** What the installed ostree can do, probed from its own help output (never from the distro). */
export interface OstreeCapabilities {
  /** `ostree admin deploy --lock-finalization` exists. */
  readonly lockFinalizationFlag: boolean;
  /** `ostree admin lock-finalization --unlock` exists. */
  readonly unlockCommand: boolean;
  /** python3-gi with the OSTree typelib is available for an exact Rollback. */
  readonly rollbackHelper: boolean;
}

/** One consistent read of the sysroot. */
export interface SysrootSnapshot {
  /** Deployments in boot order (staged first when present). */
  readonly entries: readonly StatusEntry[];
  /** True when the finalization lock file exists. */
  readonly lockFilePresent: boolean;
  /** Commit facts for every deployed checksum. */
  readonly commits: ReadonlyMap<string, CommitFacts>;
}

/** Arguments of {@link OstreeCli.stage}. */
export interface StageRequest {
  readonly osname: string;
  /** Origin refspec kept in the new deployment (`remote:ref`). */
  readonly refspec: string;
  readonly checksum: string;
  /** Write `override-commit` into the origin (Deploy of a specific revision). */
  readonly overrideCommit: boolean;
  readonly lockFinalization: boolean;
}

const STATUS_SCRIPT = `ostree admin status --sysroot="$1" || exit $?
echo @@alt-ostreed-lock@@
if [ -e ${LOCK_FILE} ]; then echo locked; fi`;

const DEPLOY_SCRIPT = `umask 077
f=$(mktemp) || exit 1
trap 'rm -f "$f"' EXIT
cat >"$f"
ostree admin deploy --origin-file="$f" "$@"`;

/** Drives ostree for one sysroot; commands run through `run` (which applies the prefix). */
export class OstreeCli {
  readonly #sysroot: string;
  readonly #run: CommandRunner;
  readonly #commits = new Map<string, CommitFacts>();
  #caps: Promise<OstreeCapabilities> | null = null;

  constructor(opts: { sysroot: string; run: CommandRunner }) {
    this.#sysroot = opts.sysroot;
    this.#run = opts.run;
  }

  get #repo(): string {
    return `--repo=${posix.join(this.#sysroot, 'ostree/repo')}`;
  }

  /** Probes the installed ostree once (cached). */
  capabilities(): Promise<OstreeCapabilities> {
    this.#caps ??= (async () => {
      const help = await this.#run(['ostree', 'admin', 'deploy', '--help']);
      // `ostree admin <unknown> --help` prints the generic admin usage and exits 0: look for the
      // subcommand's own usage line instead of trusting the exit code.
      const ok = (argv: string[], usage?: string): Promise<boolean> =>
        this.#run(argv).then(
          (r) => usage === undefined || `${r.stdout}${r.stderr}`.includes(usage),
          () => false,
        );
      return {
        lockFinalizationFlag: `${help.stdout}${help.stderr}`.includes('--lock-finalization'),
        unlockCommand: await ok(['ostree', 'admin', 'lock-finalization', '--help'], 'ostree admin lock-finalization'),
        rollbackHelper: await ok(['/usr/bin/python3', '-c', "import gi; gi.require_version('OSTree', '1.0')"]),
      };
    })();
    return this.#caps;
  }

  /** Reads deployments, the lock file and commit facts (commits are immutable: cached by checksum). */
  async status(): Promise<SysrootSnapshot> {
    const { stdout } = await this.#run(['sh', '-c', STATUS_SCRIPT, 'sh', this.#sysroot]);
    const [statusText = '', lockText = ''] = stdout.split('@@alt-ostreed-lock@@');
    const entries = parseAdminStatus(statusText);
    for (const e of entries) await this.commit(e.checksum);
    const commits = new Map<string, CommitFacts>();
    for (const e of entries) commits.set(e.checksum, this.#commits.get(e.checksum)!);
    return { entries, lockFilePresent: lockText.includes('locked'), commits };
  }

  /** Facts of one local commit (`ostree show`). */
  async commit(checksum: string): Promise<CommitFacts> {
    const hit = this.#commits.get(checksum);
    if (hit) return hit;
    const facts = parseShow((await this.#run(['ostree', this.#repo, 'show', checksum])).stdout);
    this.#commits.set(checksum, facts);
    return facts;
  }

  /** Pulls `ref` (or exactly `ref@checksum`) from `remote`. */
  async pull(remote: string, ref: string, checksum: string | null, opts: CommandOptions = {}): Promise<void> {
    await this.#run(['ostree', this.#repo, 'pull', remote, checksum ? `${ref}@${checksum}` : ref], opts);
  }

  /** The local checksum of `remote:ref`. */
  async revParse(remote: string, ref: string): Promise<string> {
    return (await this.#run(['ostree', this.#repo, 'rev-parse', `${remote}:${ref}`])).stdout.trim();
  }

  /** Fetches the whole commit history of `ref` (metadata only) and returns it, newest first. */
  async history(remote: string, ref: string, opts: CommandOptions = {}): Promise<CommitFacts[]> {
    await this.#run(['ostree', this.#repo, 'pull', '--commit-metadata-only', '--depth=-1', remote, ref], opts);
    return parseLog((await this.#run(['ostree', this.#repo, 'log', `${remote}:${ref}`], opts)).stdout);
  }

  /** `ostree admin deploy --stage` with an origin holding `refspec` (+ `override-commit`). */
  async stage(req: StageRequest, opts: CommandOptions = {}): Promise<void> {
    const caps = await this.capabilities();
    const origin = `[origin]\nrefspec=${req.refspec}\n${req.overrideCommit ? `override-commit=${req.checksum}\n` : ''}`;
    const args = [`--sysroot=${this.#sysroot}`, `--os=${req.osname}`, '--stage'];
    if (req.lockFinalization && caps.lockFinalizationFlag) args.push('--lock-finalization');
    // With ostree 2022.7 the lock is a file; create it before staging so there is no unlocked window.
    if (req.lockFinalization) await this.setFinalizationLock(true);
    else await this.setFinalizationLock(false);
    await this.#run(['sh', '-c', DEPLOY_SCRIPT, 'sh', ...args, req.checksum], { ...opts, input: origin });
  }

  /** Creates or removes the finalization lock (file, plus ostree's own command where it exists). */
  async setFinalizationLock(locked: boolean): Promise<void> {
    const caps = await this.capabilities();
    if (!locked && caps.unlockCommand) {
      await this.#run(['ostree', 'admin', 'lock-finalization', '--unlock', `--sysroot=${this.#sysroot}`]).catch(() => undefined);
    }
    const script = locked ? `mkdir -p /run/ostree && : > ${LOCK_FILE}` : `rm -f ${LOCK_FILE}`;
    await this.#run(['sh', '-c', script]);
  }

  /** `ostree admin undeploy INDEX` (also removes a staged deployment and its lock file). */
  async undeploy(index: number): Promise<void> {
    await this.#run(['ostree', 'admin', 'undeploy', `--sysroot=${this.#sysroot}`, String(index)]);
  }

  /** `ostree admin cleanup`: prunes unreferenced objects and deployment leftovers. */
  async cleanup(): Promise<void> {
    await this.#run(['ostree', 'admin', 'cleanup', `--sysroot=${this.#sysroot}`]);
  }

  /**
   * Makes the rollback deployment (or, with only a pending one, the booted one) the default.
   * Exact (reorders via `write_deployments`) when python3-gi+OSTree exist, else re-deploys the
   * target commit as the new default (it gets a new serial). Returns which method ran.
   */
  async rollback(osname: string, target: StatusEntry, opts: CommandOptions = {}): Promise<'reorder' | 'redeploy'> {
    if ((await this.capabilities()).rollbackHelper) {
      await this.#run(['/usr/bin/python3', '-c', ROLLBACK_HELPER, this.#sysroot, osname, `${target.checksum}.${target.serial}`], opts);
      return 'reorder';
    }
    const origin = `[origin]\nrefspec=${target.origin ?? target.checksum}\n${target.origin ? `override-commit=${target.checksum}\n` : ''}`;
    const args = [`--sysroot=${this.#sysroot}`, `--os=${osname}`, '--retain', target.checksum];
    await this.#run(['sh', '-c', DEPLOY_SCRIPT, 'sh', ...args], { ...opts, input: origin });
    return 'redeploy';
  }
}

/** True when `err` is a command failure (as opposed to a programming error). */
export function isCommandError(err: unknown): err is OstreeCommandError {
  return err instanceof OstreeCommandError;
}
