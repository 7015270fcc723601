// Admin API (token-protected): list groups, slots and holders with lock times; force-release a
// holder. JSON shapes are documented in docs/usage/fleetlock-server.md and parsed by
// src/fleetlock/admin-client.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorChain } from '../../common/errors.js';
import { GROUP_PATTERN } from '../protocol.js';
import type { GroupConfig } from './config.js';
import { BodyNotUtf8, BodyTooLarge, hasToken, readBody, sendError, sendJson } from './http-util.js';
import type { ProtocolDeps } from './protocol-routes.js';
import { EMPTY_GROUP, NOT_IDLE, partitionStale, unlockIfHeld, type GroupState, type IdleFacts } from './semaphore.js';

/** Path prefix of the admin API. */
export const ADMIN_PREFIX = '/admin/v1/groups';

const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/** The admin JSON view of one group; `idle` (the store's idle times) marks stale holders. */
export function groupView(name: string, cfg: GroupConfig | undefined, state: GroupState, idle: IdleFacts): Record<string, unknown> {
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
  };
}

/** Handles every request under {@link ADMIN_PREFIX}. */
export async function handleAdmin(deps: ProtocolDeps, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const config = deps.config();
  const rest = path.slice(ADMIN_PREFIX.length);
  const m = /^(?:\/([^/]+))?(\/release)?\/?$/.exec(rest);
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
  const release = m[2] !== undefined;
  if (!(release ? isAdmin : mayRead)) {
    req.resume();
    if (config.adminToken === null && !mayRead) return sendError(res, 'admin_disabled', 'the admin API is disabled: set admin_token');
    return sendError(res, 'unauthorized', 'a valid admin bearer token is required', { 'www-authenticate': 'Bearer realm="alt-fleetlockd-admin"' });
  }
  if ((release && req.method !== 'POST') || (!release && req.method !== 'GET')) {
    req.resume();
    return sendError(res, 'method_not_allowed', `use ${release ? 'POST' : 'GET'}`, { allow: release ? 'POST' : 'GET' });
  }
  try {
    if (!release) {
      const stored = await deps.store.readAll();
      // Idle times are only needed (and, on etcd, only read) for groups that expire holders.
      const view = async (n: string): Promise<Record<string, unknown>> => {
        const cfg = config.groups.get(n);
        const idle = cfg?.staleAfterMs != null && stored.has(n) ? await deps.store.idle(n) : NOT_IDLE;
        return groupView(n, cfg, stored.get(n) ?? EMPTY_GROUP, idle);
      };
      if (group !== null) {
        if (!config.groups.has(group) && !stored.has(group)) return sendError(res, 'unknown_group', `group '${group}' is neither configured nor stored`);
        return sendJson(res, 200, await view(group));
      }
      const names = [...new Set([...config.groups.keys(), ...stored.keys()])].sort();
      return sendJson(res, 200, { groups: await Promise.all(names.map(view)) });
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
