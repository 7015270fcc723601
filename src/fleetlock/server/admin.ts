// Admin API (token-protected): list groups, slots, holders with lock times, halt and failures;
// force-release a holder; resume a halted group. JSON shapes are documented in
// docs/usage/fleetlock-server.md and parsed by src/fleetlock/admin-client.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorChain } from '../../common/errors.js';
import { GROUP_PATTERN } from '../protocol.js';
import type { GroupConfig } from './config.js';
import { BodyNotUtf8, BodyTooLarge, hasToken, readBody, sendError, sendJson } from './http-util.js';
import { failuresInWindow, resumeGroup } from './halt.js';
import type { ProtocolDeps } from './protocol-routes.js';
import { EMPTY_GROUP, NOT_IDLE, partitionStale, unlockIfHeld, type GroupState, type IdleFacts } from './semaphore.js';

/** Path prefix of the admin API. */
export const ADMIN_PREFIX = '/admin/v1/groups';

const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The admin JSON view of one group; `idle` (the store's idle times) marks stale holders, `nowMs`
 * (wall clock) says which stored failures are still within the halt policy's time span.
 */
export function groupView(name: string, cfg: GroupConfig | undefined, state: GroupState, idle: IdleFacts, nowMs: number): Record<string, unknown> {
  const stale = cfg ? new Set(partitionStale(state, { slots: cfg.slots, staleAfterMs: cfg.staleAfterMs }, idle).expired.map((h) => h.id)) : new Set<string>();
  return {
    name,
    configured: cfg !== undefined,
    slots: cfg?.slots ?? 0,
    stale_after_secs: cfg?.staleAfterMs == null ? null : cfg.staleAfterMs / 1000,
    windows: (cfg?.windows ?? []).map((w) => ({ days: w.days, start_time: hhmm(w.startMinutes), length_minutes: w.lengthMinutes })),
    holders: state.holders.map((h) => ({
      id: h.id,
      locked_at: new Date(h.sinceMs).toISOString(),
      renewed_at: new Date(h.renewedMs).toISOString(),
      stale: stale.has(h.id),
    })),
    halt_after_failures: cfg?.halt.afterFailures ?? null,
    halt_window_secs: cfg ? cfg.halt.windowMs / 1000 : null,
    halted: state.halt === undefined ? null : { since: iso(state.halt.sinceMs), reason: state.halt.reason },
    failures: (cfg ? failuresInWindow(state.failures ?? [], cfg.halt.windowMs, nowMs) : (state.failures ?? [])).map((f) => ({
      id: f.id,
      release: f.release,
      result: f.result,
      reason: f.reason,
      reported_at: iso(f.atMs),
    })),
  };
}

/** Handles every request under {@link ADMIN_PREFIX}. */
export async function handleAdmin(deps: ProtocolDeps, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const config = deps.config();
  const rest = path.slice(ADMIN_PREFIX.length);
  const m = /^(?:\/([^/]+))?(\/release|\/resume)?\/?$/.exec(rest);
  let group: string | null = null;
  try {
    group = m?.[1] === undefined ? null : decodeURIComponent(m[1]);
  } catch {
    group = '%'; // malformed escape: fails the group pattern below -> not_found
  }
  if (!m || (group !== null && !GROUP_PATTERN.test(group)) || (m[2] !== undefined && group === null)) {
    req.resume();
    return sendError(res, 'not_found', `no admin route ${path}`);
  }
  const isAdmin = config.adminToken !== null && hasToken(req, config.adminToken);
  // A group's own token may read (not change) that group, so nodes' tooling can show their lock.
  const groupToken = group === null ? null : (config.groups.get(group)?.token ?? null);
  const mayRead = isAdmin || (groupToken !== null && hasToken(req, groupToken));
  const action = m[2] === undefined ? null : m[2].slice(1);
  // Actions (release, resume) change state: admin token only, POST only.
  const mutating = action !== null;
  if (!(mutating ? isAdmin : mayRead)) {
    req.resume();
    if (config.adminToken === null && !mayRead) return sendError(res, 'admin_disabled', 'the admin API is disabled: set admin_token');
    return sendError(res, 'unauthorized', 'a valid admin bearer token is required', { 'www-authenticate': 'Bearer realm="alt-fleetlockd-admin"' });
  }
  if ((mutating && req.method !== 'POST') || (!mutating && req.method !== 'GET')) {
    req.resume();
    return sendError(res, 'method_not_allowed', `use ${mutating ? 'POST' : 'GET'}`, { allow: mutating ? 'POST' : 'GET' });
  }
  try {
    if (!mutating) {
      const stored = await deps.store.readAll();
      // Idle times are only needed (and, on etcd, only read) for groups that expire holders.
      const view = async (n: string): Promise<Record<string, unknown>> => {
        const cfg = config.groups.get(n);
        const idle = cfg?.staleAfterMs != null && stored.has(n) ? await deps.store.idle(n) : NOT_IDLE;
        return groupView(n, cfg, stored.get(n) ?? EMPTY_GROUP, idle, deps.clock.nowMs());
      };
      if (group !== null) {
        if (!config.groups.has(group) && !stored.has(group)) return sendError(res, 'unknown_group', `group '${group}' is neither configured nor stored`);
        return sendJson(res, 200, await view(group));
      }
      const names = [...new Set([...config.groups.keys(), ...stored.keys()])].sort();
      return sendJson(res, 200, { groups: await Promise.all(names.map(view)) });
    }
    if (action === 'resume') {
      req.resume();
      if (!config.groups.has(group!)) return sendError(res, 'unknown_group', `group '${group}' is not configured on this server`);
      const r = await deps.store.mutate(group!, (s) => resumeGroup(s));
      if (r.resumed) {
        deps.metrics.resumed(group!);
        deps.logger.warn({ event: 'group_resumed', group }, `admin resumed group '${group}'`);
      }
      return sendJson(res, 200, { resumed: r.resumed });
    }
    let id: unknown;
    try {
      id = (JSON.parse(await readBody(req)) as Record<string, unknown> | null)?.['id'];
    } catch (err: unknown) {
      if (err instanceof BodyTooLarge) return sendError(res, 'body_too_large', 'request body over 64 KiB');
      if (err instanceof BodyNotUtf8) return sendError(res, 'invalid_body', 'request body is not valid UTF-8');
      id = undefined;
    }
    if (typeof id !== 'string' || id.length === 0) return sendError(res, 'invalid_body', 'body must be {"id": "<holder id>"}');
    const holderId = id;
    const r = await deps.store.mutate(group!, (s, idle) => unlockIfHeld(s, holderId, { slots: 0, staleAfterMs: null }, idle));
    if (r.outcome === 'released') {
      deps.metrics.adminReleased(group!);
      deps.logger.warn({ event: 'lock_force_released', group, id: holderId }, `admin released the slot of '${holderId}' in group '${group}'`);
    }
    return sendJson(res, 200, { released: r.outcome === 'released' });
  } catch (err: unknown) {
    deps.logger.error({ err: errorChain(err) }, 'admin request failed: lock store');
    return sendError(res, 'store_unavailable', 'the lock store is unavailable; retry later');
  }
}
