// Per-request rollout throttling, as Fedora's policy engine (protocols-and-alt-linux.md §3.6).
import type { Rollout } from './policy.js';
import { rustStrHash } from './siphash.js';

// `u64::MAX as f64` in Rust rounds to exactly 2^64.
const U64_MAX = 2 ** 64;

/**
 * A client's wariness: the `rollout_wariness` parameter clamped to [0, 1] when given, else derived
 * from `node_uuid` (a missing uuid hashes the empty string) scaled into [0.000001, 1].
 */
export function clientWariness(rolloutWariness: number | null, nodeUuid: string): number {
  if (rolloutWariness !== null) return Math.min(1, Math.max(0, rolloutWariness));
  const w = Number(rustStrHash(nodeUuid)) / U64_MAX;
  return Math.min(1, Math.max(0.000001, w));
}

/** The share of clients (0..1) that may see a rollout at `nowSecs`. */
export function throttleValue(r: Rollout, nowSecs: number): number {
  if (nowSecs < r.startEpoch) return 0;
  if (r.durationMinutes === null) return r.startPercentage;
  const end = r.startEpoch + 60 * Math.max(r.durationMinutes, 1);
  if (nowSecs > end) return 1;
  return r.startPercentage + ((1 - r.startPercentage) * (nowSecs - r.startEpoch)) / (end - r.startEpoch);
}

/** Indices of rollout nodes hidden from a client: its wariness exceeds the node's throttle value. */
export function hiddenRollouts(rollouts: readonly { index: number; rollout: Rollout }[], wariness: number, nowSecs: number): number[] {
  const hidden: number[] = [];
  for (const r of rollouts) if (wariness > throttleValue(r.rollout, nowSecs)) hidden.push(r.index);
  return hidden;
}
