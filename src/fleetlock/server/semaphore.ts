// Pure semaphore decisions over one group's state. The store calls these inside its compare-and-swap
// loop, so they must be deterministic functions of (state, request, policy, idle facts, now): on a
// lost race the store re-reads and calls them again. Expiry depends on the idle facts only (measured
// by the store: monotonic time or etcd leases); `now` is the wall clock and only stamps display times.

/**
 * One slot holder.
 *
 * INVARIANTS: ids are unique within a group; `sinceMs <= renewedMs`.
 */
export interface Holder {
  /** Holder id from `client_params.id`. */
  readonly id: string;
  /** When the slot was first granted, ms since the epoch (wall clock: shown, never used for expiry). */
  readonly sinceMs: number;
  /** Last pre-reboot by this holder (the lock time counts as one), ms since the epoch (shown only). */
  readonly renewedMs: number;
}

/** The persisted state of one group: its holders, oldest first. Slots come from the config. */
export interface GroupState {
  /** Current holders, sorted by `sinceMs` then `id`. */
  readonly holders: readonly Holder[];
}

/** The empty state of a group nobody has locked yet. */
export const EMPTY_GROUP: GroupState = Object.freeze({ holders: Object.freeze([]) });

/** The configured rules one decision needs. */
export interface GroupPolicy {
  /** Maximum concurrent holders; lowering it keeps existing holders but grants no new slot. */
  readonly slots: number;
  /** A holder not renewed for this long is released; null disables expiry. */
  readonly staleAfterMs: number | null;
}

/**
 * How long each holder has gone without renewing, as the store measures it: monotonic time for the
 * embedded store; for etcd 0 while the holder's lease lives and Infinity once etcd expired it. Never
 * derived from wall-clock timestamps, so a clock step cannot expire anyone. Absent ids count as 0.
 */
export type IdleFacts = ReadonlyMap<string, number>;

/** No holder has been idle (e.g. expiry disabled, or a freshly opened store). */
export const NOT_IDLE: IdleFacts = new Map();

/** A store mutation: the next state (null = unchanged, nothing to write) and the caller's result. */
export interface Mutation<T> {
  /** State to persist, or null when nothing changes. */
  readonly next: GroupState | null;
  /** Result handed back to the caller once `next` is durable. */
  readonly result: T;
  /**
   * A holder whose stale timer restarts with this write (acquired or renewed), with the expiry the
   * store should give it (null: none); the store restarts the timer only if the write commits.
   */
  readonly touch?: { readonly id: string; readonly staleAfterMs: number | null };
}

/** What a pre-reboot decided, plus any stale holders dropped on the way. */
export type LockResult =
  | { readonly outcome: 'acquired' | 'renewed'; readonly expired: readonly Holder[] }
  | { readonly outcome: 'full'; readonly holders: number; readonly slots: number; readonly expired: readonly Holder[] };

/** What a steady-state or a force-release decided. */
export interface UnlockResult {
  /** `released` when `id` held a slot, else `not_held`. */
  readonly outcome: 'released' | 'not_held';
  /** Stale holders dropped on the way. */
  readonly expired: readonly Holder[];
}

function sortHolders(holders: Holder[]): Holder[] {
  return holders.sort((a, b) => a.sinceMs - b.sinceMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Splits holders into live and stale (stale: idle, per `idle`, for longer than `staleAfterMs`). */
export function partitionStale(state: GroupState, policy: GroupPolicy, idle: IdleFacts): { live: Holder[]; expired: Holder[] } {
  const live: Holder[] = [];
  const expired: Holder[] = [];
  for (const h of state.holders) {
    if (policy.staleAfterMs !== null && (idle.get(h.id) ?? 0) > policy.staleAfterMs) expired.push(h);
    else live.push(h);
  }
  return { live, expired };
}

/**
 * RecursiveLock: a holder keeps (and renews) its slot; a newcomer takes a free slot or is refused.
 * `nowMs` (wall clock) only stamps lock and renewal times for display.
 */
export function recursiveLock(state: GroupState, id: string, policy: GroupPolicy, nowMs: number, idle: IdleFacts): Mutation<LockResult> {
  const { live, expired } = partitionStale(state, policy, idle);
  const touch = { id, staleAfterMs: policy.staleAfterMs };
  const mine = live.findIndex((h) => h.id === id);
  if (mine >= 0) {
    const h = live[mine]!;
    live[mine] = { id: h.id, sinceMs: h.sinceMs, renewedMs: Math.max(h.renewedMs, nowMs) };
    return { next: { holders: live }, result: { outcome: 'renewed', expired }, touch };
  }
  if (live.length >= policy.slots) {
    const next = expired.length > 0 ? { holders: live } : null;
    return { next, result: { outcome: 'full', holders: live.length, slots: policy.slots, expired } };
  }
  live.push({ id, sinceMs: nowMs, renewedMs: nowMs });
  return { next: { holders: sortHolders(live) }, result: { outcome: 'acquired', expired }, touch };
}

/** UnlockIfHeld: drop `id`'s slot if it has one; a no-op (no write) otherwise. */
export function unlockIfHeld(state: GroupState, id: string, policy: GroupPolicy, idle: IdleFacts): Mutation<UnlockResult> {
  const { live, expired } = partitionStale(state, policy, idle);
  const rest = live.filter((h) => h.id !== id);
  const released = rest.length !== live.length;
  const changed = released || expired.length > 0;
  return { next: changed ? { holders: rest } : null, result: { outcome: released ? 'released' : 'not_held', expired } };
}

/** Drops every stale holder; used by the periodic sweep. */
export function expireStale(state: GroupState, policy: GroupPolicy, idle: IdleFacts): Mutation<UnlockResult> {
  const { live, expired } = partitionStale(state, policy, idle);
  return { next: expired.length > 0 ? { holders: live } : null, result: { outcome: 'not_held', expired } };
}

/** Validates a decoded stored group state; null when it does not have the expected shape. */
export function parseGroupState(raw: unknown): GroupState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const holders = (raw as Record<string, unknown>)['holders'];
  if (!Array.isArray(holders)) return null;
  const out: Holder[] = [];
  const seen = new Set<string>();
  for (const h of holders as unknown[]) {
    if (typeof h !== 'object' || h === null) return null;
    const { id, since, renewed } = h as Record<string, unknown>;
    if (typeof id !== 'string' || id.length === 0 || seen.has(id)) return null;
    if (typeof since !== 'number' || !Number.isFinite(since)) return null;
    const renewedMs = typeof renewed === 'number' && Number.isFinite(renewed) ? renewed : since;
    seen.add(id);
    out.push({ id, sinceMs: since, renewedMs });
  }
  return { holders: sortHolders(out) };
}

/** The stored JSON form of a group state (`{holders:[{id, since, renewed}]}`, times in ms). */
export function serializeGroupState(state: GroupState): { holders: { id: string; since: number; renewed: number }[] } {
  return { holders: state.holders.map((h) => ({ id: h.id, since: h.sinceMs, renewed: h.renewedMs })) };
}
