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

/** Why and since when a group is halted (no new slots until an operator resumes it). */
export interface Halt {
  /** When the group halted, ms since the epoch (wall clock; shown only). */
  readonly sinceMs: number;
  /** Human-readable cause, naming the failures that tripped the policy. */
  readonly reason: string;
}

/**
 * A failed or rolled-back update a node reported, counted by the group's halt policy.
 *
 * INVARIANTS: at most one entry per (`id`, `release`) within a group.
 */
export interface Failure {
  /** Reporting node (`client_params.id`). */
  readonly id: string;
  /** The release the node failed to update to. */
  readonly release: string;
  /** The node's latest verdict on it. */
  readonly result: 'failed' | 'rolled_back';
  /** The node's reason, or null. */
  readonly reason: string | null;
  /** When it was first reported, ms since the epoch (wall clock: the policy's time span counts from it). */
  readonly atMs: number;
}

/**
 * The persisted state of one group: its holders, oldest first, plus its halt and the failures the
 * halt policy counts (both absent in records written before verdicts existed). Slots and the policy
 * itself come from the config.
 */
export interface GroupState {
  /** Current holders, sorted by `sinceMs` then `id`. */
  readonly holders: readonly Holder[];
  /** Set while the group is halted. @default absent */
  readonly halt?: Halt;
  /** Recent failures, oldest first. @default [] */
  readonly failures?: readonly Failure[];
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
  | { readonly outcome: 'halted'; readonly halt: Halt; readonly expired: readonly Holder[] }
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

/** `state` with other holders, keeping its halt and failures. */
export function withHolders(state: GroupState, holders: readonly Holder[]): GroupState {
  return { ...state, holders };
}

/** True when a group state carries nothing worth storing (no holders, no halt, no failures). */
export function isEmptyGroup(state: GroupState): boolean {
  return state.holders.length === 0 && state.halt === undefined && (state.failures ?? []).length === 0;
}

/**
 * RecursiveLock: a holder keeps (and renews) its slot; a newcomer takes a free slot or is refused.
 * A halted group refuses everyone, holders included (they keep their slot but are not told to
 * reboot). `nowMs` (wall clock) only stamps lock and renewal times for display.
 */
export function recursiveLock(state: GroupState, id: string, policy: GroupPolicy, nowMs: number, idle: IdleFacts): Mutation<LockResult> {
  const { live, expired } = partitionStale(state, policy, idle);
  if (state.halt !== undefined) {
    return { next: expired.length > 0 ? withHolders(state, live) : null, result: { outcome: 'halted', halt: state.halt, expired } };
  }
  const touch = { id, staleAfterMs: policy.staleAfterMs };
  const mine = live.findIndex((h) => h.id === id);
  if (mine >= 0) {
    const h = live[mine]!;
    live[mine] = { id: h.id, sinceMs: h.sinceMs, renewedMs: Math.max(h.renewedMs, nowMs) };
    return { next: withHolders(state, live), result: { outcome: 'renewed', expired }, touch };
  }
  if (live.length >= policy.slots) {
    const next = expired.length > 0 ? withHolders(state, live) : null;
    return { next, result: { outcome: 'full', holders: live.length, slots: policy.slots, expired } };
  }
  live.push({ id, sinceMs: nowMs, renewedMs: nowMs });
  return { next: withHolders(state, sortHolders(live)), result: { outcome: 'acquired', expired }, touch };
}

/** UnlockIfHeld: drop `id`'s slot if it has one; a no-op (no write) otherwise. Allowed while halted. */
export function unlockIfHeld(state: GroupState, id: string, policy: GroupPolicy, idle: IdleFacts): Mutation<UnlockResult> {
  const { live, expired } = partitionStale(state, policy, idle);
  const rest = live.filter((h) => h.id !== id);
  const released = rest.length !== live.length;
  const changed = released || expired.length > 0;
  return { next: changed ? withHolders(state, rest) : null, result: { outcome: released ? 'released' : 'not_held', expired } };
}

/** Drops every stale holder; used by the periodic sweep. */
export function expireStale(state: GroupState, policy: GroupPolicy, idle: IdleFacts): Mutation<UnlockResult> {
  const { live, expired } = partitionStale(state, policy, idle);
  return { next: expired.length > 0 ? withHolders(state, live) : null, result: { outcome: 'not_held', expired } };
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
  const halt = parseHalt((raw as Record<string, unknown>)['halt']);
  const failures = parseFailures((raw as Record<string, unknown>)['failures']);
  if (halt === null || failures === null) return null;
  return { holders: sortHolders(out), ...(halt === undefined ? {} : { halt }), ...(failures.length > 0 ? { failures } : {}) };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A stored `halt` (undefined when absent, null when malformed). */
function parseHalt(raw: unknown): Halt | undefined | null {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null) return null;
  const { since, reason } = raw as Record<string, unknown>;
  return isNum(since) && typeof reason === 'string' ? { sinceMs: since, reason } : null;
}

/** Stored `failures` (empty when absent, null when malformed). */
function parseFailures(raw: unknown): Failure[] | null {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return null;
  const out: Failure[] = [];
  for (const f of raw as unknown[]) {
    if (typeof f !== 'object' || f === null) return null;
    const { id, release, result, reason, at } = f as Record<string, unknown>;
    if (typeof id !== 'string' || typeof release !== 'string' || !isNum(at)) return null;
    if (result !== 'failed' && result !== 'rolled_back') return null;
    if (reason !== null && typeof reason !== 'string') return null;
    out.push({ id, release, result, reason, atMs: at });
  }
  return out;
}

/** The stored JSON form of a group state. */
export interface StoredGroupState {
  /** `[{id, since, renewed}]`, times in ms. */
  holders: { id: string; since: number; renewed: number }[];
  /** Present while halted: `{since, reason}`. */
  halt?: { since: number; reason: string };
  /** Present when non-empty: `[{id, release, result, reason, at}]`. */
  failures?: { id: string; release: string; result: Failure['result']; reason: string | null; at: number }[];
}

/**
 * The stored JSON form of a group state (`{holders:[{id, since, renewed}]}`, times in ms, plus
 * `halt` and `failures` only when set, so records without them stay byte-identical to older ones).
 */
export function serializeGroupState(state: GroupState): StoredGroupState {
  const out: StoredGroupState = { holders: state.holders.map((h) => ({ id: h.id, since: h.sinceMs, renewed: h.renewedMs })) };
  if (state.halt !== undefined) out.halt = { since: state.halt.sinceMs, reason: state.halt.reason };
  const failures = state.failures ?? [];
  if (failures.length > 0) out.failures = failures.map((f) => ({ id: f.id, release: f.release, result: f.result, reason: f.reason, at: f.atMs }));
  return out;
}
