// Prometheus text exposition for alt-fleetlockd (format 0.0.4). Counters live here; gauges are
// computed at scrape time from the config and a store read, so they never drift from the store.

/** Counters the server increments. */
export interface FleetLockCounters {
  /** One protocol request for `api` (after routing, before validation). */
  request(api: string): void;
  /** One failed protocol request, by api and error kind. */
  error(api: string, kind: string): void;
  /** Holders released by stale-lock expiry. */
  expired(group: string, n: number): void;
  /** Holders released through the admin API. */
  adminReleased(group: string): void;
  /** One verdict recorded, by group and result. */
  verdict(group: string, result: string): void;
  /** The group's halt policy halted it. */
  halted(group: string): void;
  /** An operator resumed a halted group. */
  resumed(group: string): void;
}

/** What a scrape shows besides the counters. */
export interface ScrapeFacts {
  /** Configured groups with their slot counts. */
  readonly slots: ReadonlyMap<string, number>;
  /** Holders per stored group, or null when the store could not be read. */
  readonly holders: ReadonlyMap<string, number> | null;
  /** The stored groups that are halted (meaningful only when `holders` is not null). */
  readonly halted: ReadonlySet<string>;
  /** When the longest-standing holder of each held group was granted its slot, ms since the epoch. */
  readonly oldestSinceMs: ReadonlyMap<string, number>;
  /** The wall clock at the scrape, ms since the epoch (hold ages count to it). */
  readonly nowMs: number;
  /** Store engine name. */
  readonly engine: string;
}

/** Counters plus rendering. */
export interface FleetLockMetrics extends FleetLockCounters {
  /** Renders the full exposition text. */
  render(facts: ScrapeFacts): string;
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function family(out: string[], name: string, type: 'counter' | 'gauge', help: string, samples: [Record<string, string>, number][]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [l, v] of samples) out.push(`${name}${labels(l)} ${v}`);
}

function bump(m: Map<string, number>, key: string, n = 1): void {
  m.set(key, (m.get(key) ?? 0) + n);
}

// Configured groups always get a sample (0 until something happens), so rate() works from the start.
function perGroup(m: Map<string, number>, configured: Iterable<string>): [Record<string, string>, number][] {
  const names = [...new Set([...configured, ...m.keys()])].sort();
  return names.map((group) => [{ group }, m.get(group) ?? 0]);
}

/** Creates the metrics set; one per server instance (no process-wide registry). */
export function createFleetLockMetrics(): FleetLockMetrics {
  const requests = new Map<string, number>([
    ['pre-reboot', 0],
    ['steady-state', 0],
    ['verdict', 0],
  ]);
  const errors = new Map<string, number>();
  const expired = new Map<string, number>();
  const adminReleases = new Map<string, number>();
  const verdicts = new Map<string, number>();
  const halts = new Map<string, number>();
  const resumes = new Map<string, number>();
  return {
    request: (api) => bump(requests, api),
    error: (api, kind) => bump(errors, `${api}\u0000${kind}`),
    expired: (group, n) => bump(expired, group, n),
    adminReleased: (group) => bump(adminReleases, group),
    verdict: (group, result) => bump(verdicts, `${group}\u0000${result}`),
    halted: (group) => bump(halts, group),
    resumed: (group) => bump(resumes, group),
    render(facts) {
      const out: string[] = [];
      const groups = [...new Set([...facts.slots.keys(), ...(facts.holders?.keys() ?? [])])].sort();
      family(out, 'alt_fleetlockd_requests_total', 'counter', 'FleetLock protocol requests received, by api.', [
        ...[...requests].map(([api, n]): [Record<string, string>, number] => [{ api }, n]),
      ]);
      family(out, 'alt_fleetlockd_errors_total', 'counter', 'FleetLock protocol requests answered with an error, by api and kind.', [
        ...[...errors].sort().map(([k, n]): [Record<string, string>, number] => {
          const [api, kind] = k.split('\u0000') as [string, string];
          return [{ api, kind }, n];
        }),
      ]);
      family(out, 'alt_fleetlockd_lock_slots', 'gauge', 'Configured reboot slots per group.', [
        ...[...facts.slots].sort().map(([group, n]): [Record<string, string>, number] => [{ group }, n]),
      ]);
      if (facts.holders !== null) {
        const h = facts.holders;
        family(out, 'alt_fleetlockd_lock_holders', 'gauge', 'Current slot holders per group, read from the store.', [
          ...groups.map((group): [Record<string, string>, number] => [{ group }, h.get(group) ?? 0]),
        ]);
        // An age rather than a timestamp: the server's clock (injectable) measures it, like the expiry.
        family(out, 'alt_fleetlockd_lock_oldest_hold_seconds', 'gauge', 'Seconds the longest-standing holder of the group has held its slot (0: no holder).', [
          ...groups.map((group): [Record<string, string>, number] => {
            const since = facts.oldestSinceMs.get(group);
            return [{ group }, since === undefined ? 0 : Math.max(0, Math.floor((facts.nowMs - since) / 1000))];
          }),
        ]);
        family(out, 'alt_fleetlockd_group_halted', 'gauge', 'Whether the group is halted by its failure policy (1) or not (0), read from the store.', [
          ...groups.map((group): [Record<string, string>, number] => [{ group }, facts.halted.has(group) ? 1 : 0]),
        ]);
      }
      family(out, 'alt_fleetlockd_verdicts_total', 'counter', 'Update verdicts nodes reported, by group and result.', [
        ...[...verdicts].sort().map(([k, n]): [Record<string, string>, number] => {
          const [group, result] = k.split('\u0000') as [string, string];
          return [{ group, result }, n];
        }),
      ]);
      family(out, 'alt_fleetlockd_group_halts_total', 'counter', 'Times a group was halted by its failure policy.', [...perGroup(halts, facts.slots.keys())]);
      family(out, 'alt_fleetlockd_group_resumes_total', 'counter', 'Times an operator resumed a halted group.', [...perGroup(resumes, facts.slots.keys())]);
      family(out, 'alt_fleetlockd_locks_expired_total', 'counter', 'Holders released by stale-lock expiry, per group.', [
        ...perGroup(expired, facts.slots.keys()),
      ]);
      family(out, 'alt_fleetlockd_admin_releases_total', 'counter', 'Holders force-released through the admin API, per group.', [
        ...perGroup(adminReleases, facts.slots.keys()),
      ]);
      family(out, 'alt_fleetlockd_store_up', 'gauge', 'Whether the last scrape could read the lock store (1) or not (0).', [
        [{ engine: facts.engine }, facts.holders === null ? 0 : 1],
      ]);
      return `${out.join('\n')}\n`;
    },
  };
}
