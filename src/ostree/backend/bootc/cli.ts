// The bootc adapter: runs the bootc CLI (fork/exec is bootc's supported API, docs/src/bootc-via-api.md)
// and, for the one thing bootc has no verb for (dropping a staged deployment), ostree's own CLI.
import type { CommandOptions, CommandRunner } from '../command.js';
import { OstreeCommandError } from '../errors.js';
import { refusalReason } from '../../verification.js';
import { ImageRefusedError } from './errors.js';
import { parseBootcStatusText, type BootcHost } from './status.js';

/** What the installed bootc can do, probed from its own help output. */
export interface BootcCapabilities {
  /** `bootc --version`'s version, e.g. `1.12.0`, or null when it prints none. */
  readonly version: string | null;
  /** `bootc upgrade --download-only` (stage with finalization locked; bootc >= 1.12). */
  readonly downloadOnly: boolean;
  /** `bootc upgrade --from-downloaded` (unlock what was downloaded; bootc >= 1.12). */
  readonly fromDownloaded: boolean;
  /**
   * `bootc switch --download-only` (stage another image with finalization locked): bootc-dev/bootc#2342,
   * merged 2026-07-27, after ALT's bootc 1.16.5; without it a rebase cannot be staged locked.
   */
  readonly switchDownloadOnly: boolean;
}

/** One read of bootc's status. */
export interface BootcRead {
  readonly host: BootcHost;
  /** The JSON text (the snapshot's identity). */
  readonly raw: string;
}

/** Drives bootc for one host. */
export class BootcCli {
  readonly #bootc: string;
  readonly #sysroot: string;
  readonly #runBootc: CommandRunner;
  readonly #runOstree: CommandRunner;
  readonly #policy: string;
  #caps: Promise<BootcCapabilities> | null = null;

  /**
   * `runBootc` runs bootc itself (no prefix on a real host); `runOstree` runs ostree commands with the
   * backend's command prefix; `policy` is the signature policy named in refusals.
   */
  constructor(opts: { bootc: string; sysroot: string; runBootc: CommandRunner; runOstree: CommandRunner; policy: string }) {
    this.#bootc = opts.bootc;
    this.#sysroot = opts.sysroot;
    this.#runBootc = opts.runBootc;
    this.#runOstree = opts.runOstree;
    this.#policy = opts.policy;
  }

  /** Probes once (cached). */
  capabilities(): Promise<BootcCapabilities> {
    this.#caps ??= (async () => {
      const text = async (args: string[]): Promise<string> =>
        this.#runBootc([this.#bootc, ...args]).then(
          (r) => `${r.stdout}${r.stderr}`,
          () => '',
        );
      const help = await text(['upgrade', '--help']);
      const switchHelp = await text(['switch', '--help']);
      return {
        version: /\b(\d+\.\d+\.\d+)\b/.exec(await text(['--version']))?.[1] ?? null,
        downloadOnly: help.includes('--download-only'),
        fromDownloaded: help.includes('--from-downloaded'),
        switchDownloadOnly: switchHelp.includes('--download-only'),
      };
    })();
    return this.#caps;
  }

  /** `bootc status --format=json --format-version=1`, parsed strictly. */
  async status(): Promise<BootcRead> {
    const { stdout } = await this.#runBootc([this.#bootc, 'status', '--format=json', '--format-version=1']);
    return { host: parseBootcStatusText(stdout), raw: stdout.trim() };
  }

  /**
   * `bootc upgrade` with `flags` (`--download-only`, `--from-downloaded`); a refusal under the
   * signature policy becomes an ImageRefusedError naming `image`.
   */
  async upgrade(flags: readonly string[], image: string, opts: CommandOptions = {}): Promise<void> {
    await this.#mutate(['upgrade', ...flags], image, opts);
  }

  /**
   * `bootc switch <flags> <target>` (a rebase: another image name); a refusal under the signature
   * policy becomes an ImageRefusedError naming `image`.
   */
  async switch(flags: readonly string[], target: string, image: string, opts: CommandOptions = {}): Promise<void> {
    await this.#mutate(['switch', ...flags, target], image, opts);
  }

  /** `bootc rollback` (no `--apply`: the backend reboots through its own reboot command). */
  async rollback(opts: CommandOptions = {}): Promise<void> {
    await this.#mutate(['rollback'], '(rollback)', opts);
  }

  async #mutate(args: readonly string[], image: string, opts: CommandOptions): Promise<void> {
    try {
      await this.#runBootc([this.#bootc, ...args], opts);
    } catch (err: unknown) {
      if (err instanceof OstreeCommandError && refusalReason(err.stderr) === 'signature_policy') {
        const detail = err.stderr.split('\n').find((l) => refusalReason(l) === 'signature_policy') ?? err.stderr;
        throw new ImageRefusedError(image, this.#policy, detail.trim().replace(/^(error|ERROR):\s*/, ''), err);
      }
      throw err;
    }
  }

  /**
   * Drops the staged deployment with `ostree admin undeploy 0`, only while the first deployment is
   * still the staged one (bootc has no verb for it; a reboot before the unlock would drop it too).
   */
  async discardStaged(): Promise<void> {
    const s = `--sysroot=${this.#sysroot.replace(/'/g, '')}`;
    const script = `ostree admin status '${s}' | head -n 1 | grep -q '(staged' || { echo 'no staged deployment to discard' >&2; exit 1; }\nostree admin undeploy '${s}' 0`;
    await this.#runOstree(['sh', '-c', script]);
  }
}
