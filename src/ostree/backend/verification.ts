// The backend's side of a verification refusal: `ostree pull` enforces the remote's own settings
// (`gpg-verify`, `sign-verify`) and, with `--untrusted`, the object checksums of local sources too;
// a refused pull becomes a CommitRefusedError whose message names the commit and the reason
// (src/ostree/verification.ts classifies ostree's text).
import { AltError } from '../../common/errors.js';
import { REFUSAL_MARKER, refusalReason, type RefusalReason } from '../verification.js';

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
