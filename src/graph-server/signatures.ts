// Optional signature filter for alt-graphd: with `verify_keyring_dir` set, only commits carrying at
// least one good OpenPGP signature from a key in that directory become graph nodes, so a node is
// never offered a release its ostree (gpg-verify=true with the same keys) would refuse. The
// directory has the layout hosts use for their remotes (`/usr/share/ostree/trusted.gpg.d`): one or
// more `*.gpg` public keyrings. ostree 2022.7 has no `gpg-verify` command; `ostree show
// --gpg-homedir=DIR` verifies against the keyrings in DIR and prints one block per signature.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../common/logger.js';
import { GraphServerError } from './errors.js';
import type { CommitInfo, RefHistory, ReleaseSource } from './repo.js';

const run = promisify(execFile);

/** What the signatures of one commit say. */
export type SignatureVerdict = 'verified' | 'unsigned' | 'untrusted';

/**
 * Reads `ostree show --gpg-homedir` output: verified when some signature block reads "Good
 * signature" and does not also report an expired or revoked key or signature (ostree's pull refuses
 * those); untrusted when there are signatures but none is good; unsigned when there are none.
 */
export function signatureVerdict(showText: string): SignatureVerdict {
  const blocks = showText.split(/^\s*Signature made /m).slice(1);
  if (blocks.length === 0) return 'unsigned';
  const good = blocks.some((b) => /Good signature from/.test(b) && !/expired|revoked/i.test(b));
  return good ? 'verified' : 'untrusted';
}

/** Runs `ostree show` with the keyrings of `keyringDir`; returns its output. */
export type ShowSignatures = (repoPath: string, keyringDir: string, checksum: string) => Promise<string>;

/** The real `ostree show --gpg-homedir=DIR CHECKSUM`. */
export const ostreeShowSignatures: ShowSignatures = async (repoPath, keyringDir, checksum) => {
  try {
    const { stdout, stderr } = await run('ostree', [`--repo=${repoPath}`, 'show', `--gpg-homedir=${keyringDir}`, checksum], { maxBuffer: 16 << 20 });
    return `${stdout}\n${stderr}`;
  } catch (err: unknown) {
    throw new GraphServerError('GRAPHD_REPO', `ostree show ${checksum} failed while verifying its signatures`, err);
  }
};

/** The `*.gpg` keyrings of `dir` (sorted); GRAPHD_CONFIG naming `where` when there are none. */
export async function keyringFiles(dir: string, where: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.gpg')).sort();
  } catch (err: unknown) {
    throw new GraphServerError('GRAPHD_CONFIG', `${where}: cannot read keyring directory '${dir}'`, err);
  }
  if (names.length === 0) throw new GraphServerError('GRAPHD_CONFIG', `${where}: '${dir}' holds no *.gpg keyring`);
  return names;
}

/** Options of {@link verifiedSource}. */
export interface VerifiedSourceOptions {
  /** The repository the inner source reads (the mirror for a URL source). */
  readonly repoPath: string;
  /** Directory of `*.gpg` public keyrings. */
  readonly keyringDir: string;
  readonly logger: Logger;
  /** Test seam; defaults to {@link ostreeShowSignatures}. */
  readonly show?: ShowSignatures;
}

/**
 * Wraps `inner` so that `read()` keeps only verified commits. A verdict is cached per checksum for
 * one set of keyrings (names, sizes, mtimes, which also join the fingerprint so that a key change
 * rebuilds the graph); each refused commit is logged once.
 */
export function verifiedSource(inner: ReleaseSource, opts: VerifiedSourceOptions): ReleaseSource {
  const show = opts.show ?? ostreeShowSignatures;
  const log = opts.logger.child({ component: 'graphd.signatures' });
  let keysFp = '';
  let verdicts = new Map<string, SignatureVerdict>();

  async function keyringFingerprint(): Promise<string> {
    const names = await keyringFiles(opts.keyringDir, 'verify_keyring_dir');
    const parts = await Promise.all(
      names.map(async (n) => {
        const s = await stat(join(opts.keyringDir, n));
        return `${n}:${s.size}:${s.mtimeMs}`;
      }),
    );
    return parts.join(',');
  }

  async function verdict(c: CommitInfo): Promise<SignatureVerdict> {
    const hit = verdicts.get(c.checksum);
    if (hit !== undefined) return hit;
    const v = signatureVerdict(await show(opts.repoPath, opts.keyringDir, c.checksum));
    verdicts.set(c.checksum, v);
    if (v !== 'verified') {
      log.warn(
        { event: 'commit_unverified', payload: c.checksum, version: c.version, reason: v },
        `commit ${c.checksum} (${c.version ?? 'no version'}) is ${v === 'unsigned' ? 'not signed' : 'not signed by a trusted key'}; not listed`,
      );
    }
    return v;
  }

  return {
    async fingerprint() {
      const fp = await keyringFingerprint();
      if (fp !== keysFp) {
        keysFp = fp;
        verdicts = new Map();
      }
      return `${await inner.fingerprint()}\nkeys:${fp}`;
    },
    async read(): Promise<RefHistory[]> {
      const out: RefHistory[] = [];
      for (const h of await inner.read()) {
        const commits: CommitInfo[] = [];
        for (const c of h.commits) if ((await verdict(c)) === 'verified') commits.push(c);
        out.push({ ...h, commits });
      }
      return out;
    },
    refusedCommits: () => [...verdicts.values()].filter((v) => v !== 'verified').length,
  };
}
