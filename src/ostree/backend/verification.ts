// Why ostree refused a commit. `ostree pull` enforces the remote's own verification settings
// (`gpg-verify`, `sign-verify`) and, with `--untrusted`, the object checksums of local sources too;
// this module only names the reason from ostree's error text, so that the transaction's failure
// message (and from it the agent) can tell "refused for its signature or content" from "the network
// failed". The texts are ostree 2022.7's (src/libostree/ostree-repo-pull.c, ostree-gpg-verify-result.c,
// ostree-sign-*.c); rpm-ostreed passes the same texts through, so the agent's matcher works on both.
import { AltError } from '../../common/errors.js';

/** The reasons a commit is refused, stable: they appear in messages and metric labels. */
export const REFUSAL_REASONS = ['unsigned', 'unknown_key', 'bad_signature', 'expired_key', 'corrupted'] as const;

/** One of {@link REFUSAL_REASONS}. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The text every refusal message starts its reason with; the agent's client matches on it. */
export const REFUSAL_MARKER = 'refused by verification';

const PATTERNS: ReadonlyArray<readonly [RefusalReason, RegExp]> = [
  // gpg-verify on, commit carries no signature at all (or none of the configured sign type).
  ['unsigned', /GPG verification enabled, but no signatures found|no signatures found|have no signatures of my type/i],
  ['unknown_key', /public key not found|No public key|signed by an unknown key|no valid signatures? (?:were )?found/i],
  ['expired_key', /(?:key|signature) (?:has )?expired|Expired (?:key|signature)|key (?:has been )?revoked/i],
  ['bad_signature', /BAD signature|bad signature|invalid signature|signature verification failed|Can't verify/i],
  // A content or metadata object whose bytes do not hash to its name: altered after signing.
  ['corrupted', /Corrupted (?:file|metadata|commit|dirtree|dirmeta) object|checksum expected=|Invalid checksum/i],
];

/** Classifies ostree's error output; null when the failure is not a verification refusal. */
export function refusalReason(stderr: string): RefusalReason | null {
  for (const [reason, re] of PATTERNS) if (re.test(stderr)) return reason;
  return null;
}

/** The last line of ostree's output that names the problem, without its `error: ` prefix. */
function detailLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const hit = [...lines].reverse().find((l) => refusalReason(l) !== null) ?? lines.pop() ?? '';
  return hit.replace(/^error: /, '');
}

/** The commit named in ostree's text (`Commit <sha256>: ...`); object checksums are not commits. */
function namedCommit(stderr: string): string | null {
  return /\bCommit ([0-9a-f]{64})\b/i.exec(stderr)?.[1] ?? null;
}

const CHECKSUM = /^[0-9a-f]{64}$/;

/**
 * ostree refused to pull a commit: unsigned, signed by a key the remote does not trust, a bad or
 * expired signature, or objects altered after signing. The message names the commit and the reason:
 * `commit <checksum> refused by verification (<reason>): <ostree's text>`.
 */
export class CommitRefusedError extends AltError {
  /** The refused commit (the one asked for, else the one ostree named, else the ref). */
  readonly commit: string;
  /** Why. */
  readonly reason: RefusalReason;

  constructor(commit: string, reason: RefusalReason, detail: string, cause?: unknown) {
    super('OSTREED_COMMIT_REFUSED', `commit ${commit} ${REFUSAL_MARKER} (${reason}): ${detail}`, { kind: 'commit_refused', cause });
    this.commit = commit;
    this.reason = reason;
  }
}

/**
 * Turns a failed pull's error output into a {@link CommitRefusedError}, or null when ostree failed
 * for another reason (network, disk), which stays an ordinary command failure.
 */
export function refusalFromPull(wanted: string, stderr: string, cause?: unknown): CommitRefusedError | null {
  const reason = refusalReason(stderr);
  if (reason === null) return null;
  const commit = CHECKSUM.test(wanted) ? wanted : (namedCommit(stderr) ?? wanted);
  return new CommitRefusedError(commit, reason, detailLine(stderr), cause);
}
