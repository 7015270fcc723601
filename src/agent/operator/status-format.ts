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
  };
}

/** Snapshot to aligned `Label: value` lines for people. */
export function statusText(s: AgentSnapshot): string {
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
  return rows.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`).join('\n');
}
