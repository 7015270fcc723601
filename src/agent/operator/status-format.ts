// Pure renderings of an agent snapshot for `alt-updatectl status` (human and --json).
import type { AgentSnapshot } from './snapshot.js';

/** The `--json` shape of `alt-updatectl status` (snake_case, nulls for "none"). */
export interface StatusJson {
  /** Agent state kind. */
  state: string;
  /** Human status line. */
  status_text: string;
  /** Strategy label. */
  strategy: string;
  /** Booted version. */
  booted_version: string | null;
  /** Booted ostree checksum. */
  booted_checksum: string | null;
  /** Target release version. */
  target_version: string | null;
  /** Staged deployment version. */
  staged_version: string | null;
  /** Last successful check, ISO 8601 UTC. */
  last_check_time: string | null;
  /** This boot's health verdict, null when health checks are off or never ran. */
  health_verdict: string | null;
  /** Checks of that run that did not pass. */
  health_failed_checks: { name: string; output_tail: string }[];
}

/** `YYYY-MM-DD HH:MM:SS UTC`, the timestamp style of Zincati's status texts. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Snapshot to the JSON object printed by `status --json`. */
export function statusJson(s: AgentSnapshot): StatusJson {
  return {
    state: s.state,
    status_text: s.statusText,
    strategy: s.strategy,
    booted_version: s.bootedVersion,
    booted_checksum: s.bootedChecksum,
    target_version: s.targetVersion,
    staged_version: s.stagedVersion,
    last_check_time: s.lastCheckTimeMs === null ? null : new Date(s.lastCheckTimeMs).toISOString(),
    health_verdict: s.healthVerdict,
    health_failed_checks: s.healthFailedChecks.map((c) => ({ name: c.name, output_tail: c.outputTail })),
  };
}

/**
 * Snapshot to aligned `Label: value` lines for people. `withHealth: false` leaves out the health
 * rows, for callers that print the richer health record instead (`status` reading `--root`).
 */
export function statusText(s: AgentSnapshot, opts: { readonly withHealth?: boolean } = {}): string {
  const none = (v: string | null): string => v ?? '-';
  const rows: [string, string][] = [
    ['State', s.state],
    ['Status', s.statusText === '' ? '-' : s.statusText],
    ['Strategy', s.strategy],
    ['Booted', none(s.bootedVersion)],
    ['Checksum', none(s.bootedChecksum)],
    ['Target', none(s.targetVersion)],
    ['Staged', none(s.stagedVersion)],
    ['Last check', s.lastCheckTimeMs === null ? 'never' : formatUtc(s.lastCheckTimeMs)],
  ];
  if (opts.withHealth !== false) {
    rows.push(['Health', none(s.healthVerdict)]);
    // A failed check's output tail, last line only: the full tail is in `--json` and the record.
    for (const c of s.healthFailedChecks) rows.push(['  failed', `${c.name}: ${c.outputTail.trimEnd().split('\n').pop() ?? ''}`]);
  }
  return rows.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`).join('\n');
}
