// Node metadata keys. The ALT namespace mirrors Fedora's by replacing the `org.fedoraproject.coreos.`
// prefix with `org.altlinux.` (so `org.altlinux.scheme`, `org.altlinux.releases.age_index`,
// `org.altlinux.updates.deadend`, ...). The Fedora key wins when both are present, because that is what
// stock Zincati reads and what alt-graphd emits.

/** Fedora CoreOS metadata namespace prefix. */
export const FEDORA_PREFIX = 'org.fedoraproject.coreos.';
/** ALT Linux metadata namespace prefix (equivalent keys). */
export const ALT_PREFIX = 'org.altlinux.';

/** Key suffixes (after the namespace prefix) that the client and the server use. */
export const KEY = {
  scheme: 'scheme',
  ageIndex: 'releases.age_index',
  deadend: 'updates.deadend',
  deadendReason: 'updates.deadend_reason',
  barrier: 'updates.barrier',
  barrierReason: 'updates.barrier_reason',
  rollout: 'updates.rollout',
  startEpoch: 'updates.start_epoch',
  startValue: 'updates.start_value',
  durationMinutes: 'updates.duration_minutes',
} as const;

/** A metadata key suffix from `KEY`. */
export type KeySuffix = (typeof KEY)[keyof typeof KEY];

/** The full Fedora-namespaced key for a suffix. */
export function fedoraKey(suffix: KeySuffix): string {
  return FEDORA_PREFIX + suffix;
}

/**
 * Reads a metadata value under the Fedora key, else the ALT key; returns the key actually used so
 * errors can name it. Own properties only: a graph cannot smuggle values in through the prototype.
 */
export function readMeta(
  metadata: Readonly<Record<string, string>>,
  suffix: KeySuffix,
): { key: string; value: string } | null {
  const f = FEDORA_PREFIX + suffix;
  if (Object.hasOwn(metadata, f)) return { key: f, value: metadata[f]! };
  const a = ALT_PREFIX + suffix;
  if (Object.hasOwn(metadata, a)) return { key: a, value: metadata[a]! };
  return null;
}
