// Why ostree refused a commit, from ostree's own error text. Shared by the backend (which names the
// reason in the transaction's failure message) and the agent's client (which tells "refused for its
// signature or content" from "the network failed", also from a real rpm-ostreed that passes ostree's
// texts through). The texts are ostree 2022.7's (ostree-repo-pull.c, ostree-gpg-verify-result.c,
// ostree-sign-*.c), plus containers/image's "Source image rejected" (skopeo, bootc) for images refused by
// the host's signature policy (`signature_policy`). Pure: no I/O.

/** The reasons a commit is refused, stable: they appear in messages and metric labels. */
export const REFUSAL_REASONS = ['unsigned', 'unknown_key', 'bad_signature', 'expired_key', 'corrupted', 'signature_policy'] as const;

/** One of {@link REFUSAL_REASONS}. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The text every refusal message starts its reason with; the agent's client matches on it. */
export const REFUSAL_MARKER = 'refused by verification';

const PATTERNS: ReadonlyArray<readonly [RefusalReason, RegExp]> = [
  // First: an image refused by policy.json (containers/image's text, which may itself mention keys or
  // signatures), or the bootc driver's own message naming that reason.
  ['signature_policy', /Source image rejected|refused by verification \(signature_policy\)/],
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
