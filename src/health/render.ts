// Pure renderings of the health record for `alt-updatectl status` (human and --json).
import type { HealthRecord } from './record.js';

/** The `health` member of `alt-updatectl status --json` (snake_case, nulls for "none"). */
export interface HealthStatusJson {
  /** Last verdict (`healthy`, `rebooting`, `rolling_back`, `rolled_back`, `fallback`, `manual_intervention`, ...), or null. */
  last_verdict: string | null;
  /** Release the last verdict is about, or null. */
  last_release: string | null;
  /** Reason of the last verdict, or null. */
  last_reason: string | null;
  /** When, ISO 8601 UTC, or null. */
  last_time: string | null;
  /** Required or wanted checks of the last run that did not pass, with their output tails. */
  failed_checks: { name: string; kind: string; result: string; exit_code: number | null; output_tail: string }[];
  /** The release on trial and its attempts, or null. */
  trial: { release: string; attempts: number; max_attempts: number; phase: string } | null;
  /** Reason of "manual intervention required", or null. */
  manual_intervention: string | null;
  /** Releases that failed on this node (never staged again). */
  failed_releases: { release: string; reason: string; rolled_back: boolean }[];
}

/** The record as `status --json` shows it. */
export function healthStatusJson(r: HealthRecord): HealthStatusJson {
  const l = r.last;
  return {
    last_verdict: l?.verdict ?? null,
    last_release: l?.release ?? null,
    last_reason: l?.reason ?? null,
    last_time: l === null ? null : new Date(l.atMs).toISOString(),
    failed_checks: (l?.checks ?? [])
      .filter((c) => c.result === 'failed' || c.result === 'timeout')
      .map((c) => ({ name: c.name, kind: c.kind, result: c.result, exit_code: c.exitCode, output_tail: c.outputTail })),
    trial: r.trial === null ? null : { release: r.trial.release, attempts: r.trial.attempts, max_attempts: r.trial.maxAttempts, phase: r.trial.phase },
    manual_intervention: r.manual,
    failed_releases: r.failed.map((f) => ({ release: f.release, reason: f.reason, rolled_back: f.rolledBack })),
  };
}

/** Human lines, aligned like the agent's status; a failed check's output tail is indented below it. */
export function healthStatusText(r: HealthRecord): string {
  const j = healthStatusJson(r);
  const rows: [string, string][] = [
    ['Health', j.last_verdict === null ? 'never judged' : `${j.last_verdict}${j.last_release ? ` (${j.last_release})` : ''}${j.last_time ? ` at ${j.last_time.slice(0, 19).replace('T', ' ')} UTC` : ''}`],
  ];
  if (j.last_reason) rows.push(['Reason', j.last_reason]);
  if (j.manual_intervention) rows.push(['Attention', `manual intervention required: ${j.manual_intervention}`]);
  if (j.trial) rows.push(['On trial', `${j.trial.release}, boot ${j.trial.attempts} of ${j.trial.max_attempts} (${j.trial.phase})`]);
  for (const f of j.failed_releases) rows.push(['Failed', `${f.release}${f.rolled_back ? ' (rolled back)' : ''}: ${f.reason}`]);
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`);
  for (const c of j.failed_checks) {
    lines.push(`${'Check:'.padEnd(12)}${c.name} (${c.kind}) ${c.result}${c.exit_code === null ? '' : ` exit ${c.exit_code}`}`);
    for (const t of c.output_tail.trimEnd().split('\n').slice(-10)) if (t !== '') lines.push(`${' '.repeat(14)}${t}`);
  }
  return lines.join('\n');
}
