// The FleetLock endpoints, plus the verdict endpoint beside them: validate, authorise, check the
// window, then one store mutation.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MonotonicClock } from '../../common/clock.js';
import { errorChain } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { FLEETLOCK_HEADER, parseClientParams, parseVerdictBody, type ClientParams, type FleetLockApi, type Verdict } from '../protocol.js';
import type { GroupConfig, ServerConfig } from './config.js';
import { BodyNotUtf8, BodyTooLarge, hasToken, readBody, sendError, sendJson } from './http-util.js';
import type { ErrorKind } from './kinds.js';
import { recordVerdict } from './halt.js';
import type { FleetLockCounters } from './metrics.js';
import { recursiveLock, unlockIfHeld, type GroupPolicy, type Holder } from './semaphore.js';
import type { LockStore } from './store.js';
import { describeWindows, insideWindows } from './windows.js';

/** What the protocol routes need. */
export interface ProtocolDeps {
  /** Current configuration (re-read per request so a reload applies at once). */
  readonly config: () => ServerConfig;
  /** Lock store. */
  readonly store: LockStore;
  /** Time source: wall time stamps lock times, monotonic time measures idleness (embedded store). */
  readonly clock: MonotonicClock;
  /** Component logger. */
  readonly logger: Logger;
  /** Metric counters. */
  readonly metrics: FleetLockCounters;
}

/** The semaphore policy of a configured group. */
export function policyOf(g: GroupConfig): GroupPolicy {
  return { slots: g.slots, staleAfterMs: g.staleAfterMs };
}

/** Logs and counts holders that a mutation released as stale. */
export function reportExpired(deps: ProtocolDeps, group: string, expired: readonly Holder[]): void {
  if (expired.length === 0) return;
  deps.metrics.expired(group, expired.length);
  for (const h of expired) {
    deps.logger.warn(
      { event: 'lock_expired', group, id: h.id, locked_at: new Date(h.sinceMs).toISOString(), renewed_at: new Date(h.renewedMs).toISOString() },
      `released stale lock of '${h.id}' in group '${group}'`,
    );
  }
}

/** Handles `POST /v1/pre-reboot`, `POST /v1/steady-state` and `POST /v1/verdict`. */
export async function handleProtocol(deps: ProtocolDeps, api: FleetLockApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  deps.metrics.request(api);
  const fail = (kind: ErrorKind, value: string, headers: Record<string, string> = {}): void => {
    deps.metrics.error(api, kind);
    sendError(res, kind, value, headers);
  };
  if (req.method !== 'POST') {
    req.resume();
    return fail('method_not_allowed', `${api} accepts POST only`, { allow: 'POST' });
  }
  const header = req.headers[FLEETLOCK_HEADER];
  if (typeof header !== 'string' || header.trim().toLowerCase() !== 'true') {
    req.resume();
    return fail('missing_protocol_header', `header '${FLEETLOCK_HEADER}: true' is required`);
  }
  let text: string;
  try {
    text = await readBody(req);
  } catch (err: unknown) {
    if (err instanceof BodyTooLarge) return fail('body_too_large', 'request body over 64 KiB');
    if (err instanceof BodyNotUtf8) return fail('invalid_body', 'request body is not valid UTF-8');
    throw err;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return fail('invalid_body', 'request body is not valid JSON');
  }
  const asVerdict = api === 'verdict' ? parseVerdictBody(body) : null;
  const parsed = asVerdict ?? parseClientParams(body);
  if (!parsed.ok) return fail(parsed.kind, parsed.value);
  const { id, group } = parsed.params;
  const reported = asVerdict?.ok ? asVerdict.verdict : null;
  const cfg = deps.config().groups.get(group);
  if (!cfg) return fail('unknown_group', `group '${group}' is not configured on this server`);
  if (cfg.token !== null && !hasToken(req, cfg.token)) {
    return fail('unauthorized', `group '${group}' requires a valid bearer token`, { 'www-authenticate': 'Bearer realm="alt-fleetlockd"' });
  }
  const nowMs = deps.clock.nowMs();
  // Plain fields rather than a child logger: this is the hot path, one record per state change.
  const at = { api, group, id };
  try {
    if (reported !== null) return await verdict(deps, cfg, parsed.params, reported, nowMs, res);
    if (api === 'pre-reboot') {
      if (!insideWindows(cfg.windows, nowMs)) {
        return fail('outside_maintenance_window', `group '${group}' allows reboots only in ${describeWindows(cfg.windows)}`);
      }
      const r = await deps.store.mutate(group, (s, idle) => recursiveLock(s, id, policyOf(cfg), nowMs, idle));
      reportExpired(deps, group, r.expired);
      if (r.outcome === 'halted') {
        deps.logger.debug({ ...at, halted_at: new Date(r.halt.sinceMs).toISOString() }, 'lock refused: group halted');
        return fail('group_halted', `group '${group}' is halted (${r.halt.reason}); an operator must resume it`);
      }
      if (r.outcome === 'full') {
        deps.logger.debug({ ...at, holders: r.holders, slots: r.slots }, 'lock refused: all slots held');
        return fail('failed_lock_semaphore_full', `all ${r.slots} slot(s) of group '${group}' are held (${r.holders} holder(s))`);
      }
      if (r.outcome === 'acquired') deps.logger.info({ ...at, event: 'lock_acquired' }, `'${id}' took a slot in group '${group}'`);
      else deps.logger.debug({ ...at, event: 'lock_renewed' }, 'holder renewed its slot');
      return sendJson(res, 200, { result: r.outcome });
    }
    const r = await deps.store.mutate(group, (s, idle) => unlockIfHeld(s, id, policyOf(cfg), idle));
    reportExpired(deps, group, r.expired);
    if (r.outcome === 'released') deps.logger.info({ ...at, event: 'lock_released' }, `'${id}' released its slot in group '${group}'`);
    return sendJson(res, 200, { result: r.outcome });
  } catch (err: unknown) {
    deps.logger.error({ ...at, err: errorChain(err) }, 'lock store failed');
    return fail('store_unavailable', 'the lock store is unavailable; retry later');
  }
}

/** Records a verdict; logs failures and the halt they may cause. */
async function verdict(deps: ProtocolDeps, cfg: GroupConfig, params: ClientParams, v: Verdict, nowMs: number, res: ServerResponse): Promise<void> {
  const { id, group } = params;
  const r = await deps.store.mutate(group, (s) => recordVerdict(s, id, v, cfg.halt, nowMs));
  deps.metrics.verdict(group, v.result);
  const at = { api: 'verdict', group, id, release: v.release, result: v.result, reason: v.reason };
  if (v.result === 'healthy') deps.logger.info({ ...at, event: 'verdict_healthy' }, `'${id}' is healthy on ${v.release}`);
  else deps.logger.warn({ ...at, event: 'verdict_failed', failures: r.failures }, `'${id}' reported ${v.result} on ${v.release}`);
  if (r.haltedNow) {
    deps.metrics.halted(group);
    deps.logger.warn({ event: 'group_halted', group, failures: r.failures, limit: cfg.halt.afterFailures }, `group '${group}' halted: no new slots until an operator resumes it`);
  }
  return sendJson(res, 200, { result: 'recorded', group_halted: r.halted });
}
