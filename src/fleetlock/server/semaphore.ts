// Pure semaphore decisions over one group's state. The store calls these inside its compare-and-swap
// loop, so they must be deterministic functions of (state, request, policy, now): on a lost race the
// store re-reads and calls them again.

/**
 * One slot holder.
 *
 * INVARIANTS: ids are unique within a group; `sinceMs <= renewedMs`.
 */
export interface Holder {
  /** Holder id from `client_params.id`. */
  readonly id: string;
  /** When the slot was first granted, ms since the epoch. */
  readonly sinceMs: number;
  /** Last pre-reboot by this holder (the lock time counts as one), ms since the epoch. */
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

/** A store mutation: the next state (null = unchanged, nothing to write) and the caller's result. */
export interface Mutation<T> {
  /** State to persist, or null when nothing changes. */
  readonly next: GroupState | null;
  /** Result handed back to the caller once `next` is durable. */
  readonly result: T;
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

/** Splits holders into live and stale at `nowMs` (stale: not renewed within `staleAfterMs`). */
export function partitionStale(state: GroupState, policy: GroupPolicy, nowMs: number): { live: Holder[]; expired: Holder[] } {
  const live: Holder[] = [];
  const expired: Holder[] = [];
  for (const h of state.holders) {
    if (policy.staleAfterMs !== null && nowMs - h.renewedMs > policy.staleAfterMs) expired.push(h);
    else live.push(h);
  }
  return { live, expired };
}

/** RecursiveLock: a holder keeps (and renews) its slot; a newcomer takes a free slot or is refused. */
export function recursiveLock(state: GroupState, id: string, policy: GroupPolicy, nowMs: number): Mutation<LockResult> {
  const { live, expired } = partitionStale(state, policy, nowMs);
  const mine = live.findIndex((h) => h.id === id);
  if (mine >= 0) {
    const h = live[mine]!;
    live[mine] = { id: h.id, sinceMs: h.sinceMs, renewedMs: Math.max(h.renewedMs, nowMs) };
    return { next: { holders: live }, result: { outcome: 'renewed', expired } };
  }
  if (live.length >= policy.slots) {
    const next = expired.length > 0 ? { holders: live } : null;
    return { next, result: { outcome: 'full', holders: live.length, slots: policy.slots, expired } };
  }
  live.push({ id, sinceMs: nowMs, renewedMs: nowMs });
  return { next: { holders: sortHolders(live) }, result: { outcome: 'acquired', expired } };
}

/** UnlockIfHeld: drop `id`'s slot if it has one; a no-op (no write) otherwise. */
export function unlockIfHeld(state: GroupState, id: string, policy: GroupPolicy, nowMs: number): Mutation<UnlockResult> {
  const { live, expired } = partitionStale(state, policy, nowMs);
  const rest = live.filter((h) => h.id !== id);
  const released = rest.length !== live.length;
  const changed = released || expired.length > 0;
  return { next: changed ? { holders: rest } : null, result: { outcome: released ? 'released' : 'not_held', expired } };
}

/** Drops every stale holder; used by the periodic sweep. */
export function expireStale(state: GroupState, policy: GroupPolicy, nowMs: number): Mutation<UnlockResult> {
  const { live, expired } = partitionStale(state, policy, nowMs);
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
