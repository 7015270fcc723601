// Client of alt-fleetlockd's admin API (adapter: undici types stay in client.ts / here).
import type { Dispatcher } from 'undici';
import { dispatcherFor, jsonRequest } from './client.js';
import { FleetLockError } from './errors.js';

/** One holder as the admin API reports it. */
export interface HolderStatus {
  /** Holder id. */
  readonly id: string;
  /** When the slot was granted (ISO 8601 UTC). */
  readonly lockedAt: string;
  /** Last pre-reboot by the holder (ISO 8601 UTC). */
  readonly renewedAt: string;
  /** True when the holder is past the group's stale expiry and will be released at the next sweep. */
  readonly stale: boolean;
}

/** A failed or rolled-back update the group's halt policy counts. */
export interface FailureStatus {
  /** Reporting node. */
  readonly id: string;
  /** The release it failed to update to. */
  readonly release: string;
  /** Its latest verdict on that release. */
  readonly result: 'failed' | 'rolled_back';
  /** The node's reason, or null. */
  readonly reason: string | null;
  /** First reported (ISO 8601 UTC). */
  readonly reportedAt: string;
}

/** One group as the admin API reports it. */
export interface GroupStatus {
  /** Group name. */
  readonly name: string;
  /** False for a group found in the store but no longer in the server config. */
  readonly configured: boolean;
  /** Configured slots (0 when not configured). */
  readonly slots: number;
  /** Stale-lock expiry in seconds, or null when disabled. */
  readonly staleAfterSecs: number | null;
  /** Current holders, oldest first. */
  readonly holders: readonly HolderStatus[];
  /** Halt after this many failures within `haltWindowSecs`; null = never (or an older server). */
  readonly haltAfterFailures: number | null;
  /** The halt policy's time span in seconds; null for a group not configured (or an older server). */
  readonly haltWindowSecs: number | null;
  /** Set while the group is halted: since when (ISO 8601 UTC) and why. */
  readonly halted: { readonly since: string; readonly reason: string } | null;
  /** Failures within the time span, oldest first. */
  readonly failures: readonly FailureStatus[];
}

/** Options for {@link createFleetLockAdminClient}. */
export interface FleetLockAdminClientOptions {
  /** Server base URL (same as the protocol base URL). */
  readonly baseUrl: string;
  /** Admin token (or, for `group()` only, the group's token). */
  readonly token: string | null;
  /** undici dispatcher; default: global. */
  readonly dispatcher?: Dispatcher;
  /** Extra trusted CA certificates (PEM); ignored with `dispatcher`. */
  readonly ca?: string | Buffer;
  /** Per-request timeout in ms. @default 30000 */
  readonly timeoutMs?: number;
}

/** The admin operations. */
export interface FleetLockAdminClient {
  /** Every configured or stored group. */
  listGroups(): Promise<GroupStatus[]>;
  /** One group. */
  group(name: string): Promise<GroupStatus>;
  /** Force-releases `id`'s slot in `group`; resolves to whether it held one. */
  release(group: string, id: string): Promise<boolean>;
  /** Lifts `group`'s halt and clears its counted failures; resolves to whether it was halted. */
  resume(group: string): Promise<boolean>;
  /** Closes connections the client opened itself. */
  close(): Promise<void>;
}

function bad(what: string): never {
  throw new FleetLockError({ api: 'admin', kind: 'client_bad_response', status: 200, message: `admin API: unexpected reply: ${what}` });
}

/** Validates one group object of an admin reply. */
export function parseGroupStatus(raw: unknown): GroupStatus {
  if (typeof raw !== 'object' || raw === null) bad('group is not an object');
  const g = raw as Record<string, unknown>;
  if (typeof g['name'] !== 'string' || typeof g['slots'] !== 'number' || !Array.isArray(g['holders'])) bad('group lacks name, slots or holders');
  const stale = g['stale_after_secs'];
  const num = (k: string): number | null => (typeof g[k] === 'number' ? g[k] : null);
  const halted = g['halted'] as Record<string, unknown> | null | undefined;
  if (halted != null && (typeof halted['since'] !== 'string' || typeof halted['reason'] !== 'string')) bad('halted lacks since or reason');
  return {
    name: g['name'],
    configured: g['configured'] !== false,
    slots: g['slots'],
    staleAfterSecs: typeof stale === 'number' ? stale : null,
    holders: (g['holders'] as unknown[]).map((h) => {
      const o = (h ?? {}) as Record<string, unknown>;
      if (typeof o['id'] !== 'string' || typeof o['locked_at'] !== 'string') bad('holder lacks id or locked_at');
      return {
        id: o['id'],
        lockedAt: o['locked_at'],
        renewedAt: typeof o['renewed_at'] === 'string' ? o['renewed_at'] : o['locked_at'],
        stale: o['stale'] === true,
      };
    }),
    haltAfterFailures: num('halt_after_failures'),
    haltWindowSecs: num('halt_window_secs'),
    halted: halted == null ? null : { since: halted['since'] as string, reason: halted['reason'] as string },
    failures: (Array.isArray(g['failures']) ? (g['failures'] as unknown[]) : []).map(parseFailure),
  };
}

function parseFailure(raw: unknown): FailureStatus {
  const f = (raw ?? {}) as Record<string, unknown>;
  const { id, release, result, reason, reported_at: at } = f;
  if (typeof id !== 'string' || typeof release !== 'string' || typeof at !== 'string' || (result !== 'failed' && result !== 'rolled_back')) {
    bad('failure lacks id, release, result or reported_at');
  }
  return { id, release, result, reason: typeof reason === 'string' ? reason : null, reportedAt: at };
}

/** Creates an admin client. */
export function createFleetLockAdminClient(opts: FleetLockAdminClientOptions): FleetLockAdminClient {
  const { dispatcher, owned } = dispatcherFor(opts);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const headers = (): Record<string, string> => (opts.token ? { authorization: `Bearer ${opts.token}` } : {});
  const url = (rel: string): URL => new URL(rel, opts.baseUrl);
  const base = { api: 'admin' as const, timeoutMs, ...(dispatcher ? { dispatcher } : {}) };
  return {
    async listGroups() {
      const body = await jsonRequest({ ...base, url: url('admin/v1/groups'), method: 'GET', headers: headers() });
      const groups = (body as Record<string, unknown> | null)?.['groups'];
      if (!Array.isArray(groups)) bad('no groups array');
      return groups.map(parseGroupStatus);
    },
    async group(name) {
      const body = await jsonRequest({ ...base, url: url(`admin/v1/groups/${encodeURIComponent(name)}`), method: 'GET', headers: headers() });
      return parseGroupStatus(body);
    },
    async release(group, id) {
      const body = await jsonRequest({
        ...base,
        url: url(`admin/v1/groups/${encodeURIComponent(group)}/release`),
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
      });
      return (body as Record<string, unknown> | null)?.['released'] === true;
    },
    async resume(group) {
      const body = await jsonRequest({ ...base, url: url(`admin/v1/groups/${encodeURIComponent(group)}/resume`), method: 'POST', headers: headers() });
      return (body as Record<string, unknown> | null)?.['resumed'] === true;
    },
    close: async () => {
      await owned?.close();
    },
  };
}
