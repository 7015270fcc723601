// The ostree driver: a thin adapter running ostree 2022.7+ CLI commands (through the command prefix).
//
// Every mutation is *guarded*: one shell invocation re-reads the status, compares it with the
// snapshot the daemon's checks were made against, and only then mutates and prints the new status.
// That is optimistic concurrency against anyone else touching the sysroot, and it keeps the number
// of process start-ups (the cost here) at about what an operator typing the commands would pay.
import { posix } from 'node:path';
import type { CommandOptions, CommandRunner } from './command.js';
import { OstreeCommandError } from './errors.js';
import { ROLLBACK_HELPER } from './rollback-helper.js';
import { parseAdminStatus, parseLog, parseShow, type CommitFacts, type StatusEntry } from './status-parse.js';
import { refusalFromPull } from './verification.js';

/** The finalization lock file that ostree 2022.7's finalize-staged honours (and rpm-ostree reads). */
export const LOCK_FILE = '/run/ostree/staged-deployment-locked';

/** Exit code of a guarded script whose sysroot changed since the snapshot (EX_TEMPFAIL). */
export const STALE_EXIT = 75;

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
  /** The raw status text; the guard of the next mutation compares against it. */
  readonly raw: string;
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

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const MARK = '@@alt-ostreed@@';

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

  /** Shell function `st` printing the status text (`ostree admin status` + lock marker). */
  get #st(): string {
    return `st() { ostree admin status --sysroot=${q(this.#sysroot)} || exit $?; echo ${MARK}lock; if [ -e ${LOCK_FILE} ]; then echo locked; fi; }`;
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

  async #snapshot(raw: string): Promise<SysrootSnapshot> {
    const text = raw.replace(/\n+$/, '');
    const [statusText = '', lockText = ''] = text.split(`${MARK}lock`);
    const entries = parseAdminStatus(statusText);
    const commits = new Map<string, CommitFacts>();
    for (const e of entries) commits.set(e.checksum, await this.commit(e.checksum));
    return { entries, lockFilePresent: lockText.includes('locked'), commits, raw: text };
  }

  /** Reads deployments, the lock file and commit facts (commits are immutable: cached by checksum). */
  async status(): Promise<SysrootSnapshot> {
    return this.#snapshot((await this.#run(['sh', '-c', `${this.#st}\nst`])).stdout);
  }

  /** Facts of one local commit (`ostree show`). */
  async commit(checksum: string): Promise<CommitFacts> {
    const hit = this.#commits.get(checksum);
    if (hit) return hit;
    const facts = parseShow((await this.#run(['ostree', this.#repo, 'show', checksum])).stdout);
    this.#commits.set(checksum, facts);
    return facts;
  }

  /** Pulls `ref` (or exactly `ref@checksum`) from `remote` and returns the pulled commit's facts. */
  async pull(remote: string, ref: string, checksum: string | null, opts: CommandOptions = {}): Promise<CommitFacts> {
    const target = checksum ? `${ref}@${checksum}` : ref;
    // The remote's gpg-verify / sign-verify settings apply as configured (never overridden here);
    // --untrusted makes ostree check object checksums of file:// sources too, as it always does over
    // HTTP, so a repository altered after signing is refused wherever it lives.
    const script = `ostree ${q(this.#repo)} pull --untrusted ${q(remote)} ${q(target)} || exit $?\necho ${MARK}show\nostree ${q(this.#repo)} show ${q(checksum ?? `${remote}:${ref}`)}`;
    const stdout = await this.#runPull(script, checksum ?? `${remote}:${ref}`, opts);
    const facts = parseShow(stdout.slice(stdout.lastIndexOf(`${MARK}show`) + `${MARK}show`.length).trimStart());
    this.#commits.set(facts.checksum, facts);
    return facts;
  }

  /** Fetches the whole commit history of `ref` (metadata only) and returns it, newest first. */
  async history(remote: string, ref: string, opts: CommandOptions = {}): Promise<CommitFacts[]> {
    const script = `ostree ${q(this.#repo)} pull --untrusted --commit-metadata-only --depth=-1 ${q(remote)} ${q(ref)} || exit $?\nostree ${q(this.#repo)} log ${q(`${remote}:${ref}`)}`;
    return parseLog(await this.#runPull(script, `${remote}:${ref}`, opts));
  }

  /** Runs a pull script; a verification refusal becomes a CommitRefusedError naming `wanted`. */
  async #runPull(script: string, wanted: string, opts: CommandOptions): Promise<string> {
    try {
      return (await this.#run(['sh', '-c', script], opts)).stdout;
    } catch (err: unknown) {
      throw (err instanceof OstreeCommandError ? refusalFromPull(wanted, err.stderr, err) : null) ?? err;
    }
  }

  /**
   * Runs `body` only if the status still equals `guard` (else exits STALE_EXIT), then prints the new
   * status; returns the new snapshot.
   */
  async #guarded(guard: string, body: string, opts: CommandOptions = {}): Promise<SysrootSnapshot> {
    const { stdout } = await this.#run(['sh', '-c', this.#guardScript(body, true), 'sh', guard], opts);
    return this.#snapshot(stdout.slice(stdout.lastIndexOf(`${MARK}status`) + `${MARK}status`.length).replace(/^\n/, ''));
  }

  #guardScript(body: string, statusAfter: boolean): string {
    return [
      this.#st,
      `cur=$(st) || exit $?`,
      `[ "$cur" = "$1" ] || { echo 'sysroot changed since it was read' >&2; exit ${STALE_EXIT}; }`,
      body,
      ...(statusAfter ? [`echo ${MARK}status`, 'st'] : []),
    ].join('\n');
  }

  /** Sets the finalization lock, then `ostree admin deploy --stage` with an origin file. */
  async stage(req: StageRequest, guard: string, opts: CommandOptions = {}): Promise<SysrootSnapshot> {
    const caps = await this.capabilities();
    const origin = `[origin]\nrefspec=${req.refspec}\n${req.overrideCommit ? `override-commit=${req.checksum}\n` : ''}`;
    const args = [`--sysroot=${this.#sysroot}`, `--os=${req.osname}`, '--stage'];
    if (req.lockFinalization && caps.lockFinalizationFlag) args.push('--lock-finalization');
    const body = [
      // With ostree 2022.7 the lock is a file: create it before staging so there is no unlocked window.
      req.lockFinalization ? `mkdir -p /run/ostree && : > ${LOCK_FILE} || exit $?` : `rm -f ${LOCK_FILE}`,
      'umask 077',
      'f=$(mktemp) || exit 1',
      `printf '%s' ${q(origin)} > "$f" || exit 1`,
      `ostree admin deploy --origin-file="$f" ${args.map(q).join(' ')} ${q(req.checksum)}`,
      'rc=$?',
      'rm -f "$f"',
      '[ $rc -eq 0 ] || exit $rc',
    ].join('\n');
    return this.#guarded(guard, body, opts);
  }

  /**
   * Removes the finalization lock (file, plus ostree's own command where it exists). No status is
   * read afterwards: a reboot follows, after which the daemon re-reads everything anyway.
   */
  async unlock(guard: string): Promise<void> {
    const caps = await this.capabilities();
    const native = caps.unlockCommand ? `ostree admin lock-finalization --unlock --sysroot=${q(this.#sysroot)} || exit $?\n` : '';
    await this.#run(['sh', '-c', this.#guardScript(`${native}rm -f ${LOCK_FILE} || exit $?`, false), 'sh', guard]);
  }

  /** `ostree admin undeploy` of each index (highest first), then `ostree admin cleanup` if asked. */
  async undeploy(indexes: readonly number[], cleanup: boolean, guard: string): Promise<SysrootSnapshot> {
    const lines = [...indexes]
      .sort((a, b) => b - a)
      .map((i) => `ostree admin undeploy --sysroot=${q(this.#sysroot)} ${i} || exit $?`);
    if (cleanup) lines.push(`ostree admin cleanup --sysroot=${q(this.#sysroot)} || exit $?`);
    return this.#guarded(guard, lines.join('\n') || ':');
  }

  /**
   * Makes `target` the first deployment. Exact (reorders via `write_deployments`) when python3-gi +
   * OSTree exist, else re-deploys the target commit as the new default (it gets a new serial).
   */
  async rollback(osname: string, target: StatusEntry, guard: string): Promise<{ how: 'reorder' | 'redeploy'; snapshot: SysrootSnapshot }> {
    if ((await this.capabilities()).rollbackHelper) {
      const body = `/usr/bin/python3 -c ${q(ROLLBACK_HELPER)} ${q(this.#sysroot)} ${q(osname)} ${q(`${target.checksum}.${target.serial}`)} || exit $?`;
      return { how: 'reorder', snapshot: await this.#guarded(guard, body) };
    }
    const origin = `[origin]\nrefspec=${target.origin ?? target.checksum}\n${target.origin ? `override-commit=${target.checksum}\n` : ''}`;
    const body = [
      'f=$(mktemp) || exit 1',
      `printf '%s' ${q(origin)} > "$f" || exit 1`,
      `ostree admin deploy --origin-file="$f" --sysroot=${q(this.#sysroot)} --os=${q(osname)} --retain ${q(target.checksum)}`,
      'rc=$?',
      'rm -f "$f"',
      '[ $rc -eq 0 ] || exit $rc',
    ].join('\n');
    return { how: 'redeploy', snapshot: await this.#guarded(guard, body) };
  }
}

/** True when a guarded mutation found the sysroot changed since its snapshot. */
export function isStale(err: unknown): boolean {
  return err instanceof OstreeCommandError && err.exitCode === STALE_EXIT;
}
