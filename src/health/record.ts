// The persistent health record (/var/lib/alt-updated/health.json): the update on trial, the
// releases that failed, the last verdict. Parsed strictly at the file boundary; pure.
import { HealthError } from './errors.js';

/** A deployment as the health record names it: commit checksum and deployment serial. */
export interface DeploymentRef {
  /** Commit checksum (64 hex). */
  readonly payload: string;
  /** ostree deployment serial. */
  readonly serial: number;
}

/**
 * The update on trial, armed by the agent right before it finalizes. `phase` is written before the
 * action it announces (kill -9 safety): `rollback_requested` precedes the Rollback call.
 */
export interface Trial {
  /** Release (version) the node updates to. */
  readonly release: string;
  /** The deployment the next boot must be. */
  readonly expected: DeploymentRef;
  /** The deployment that was booted when the trial was armed. */
  readonly previous: DeploymentRef;
  /** Boot id at arming time: a health run in that same boot has nothing to judge yet. */
  readonly armedBootId: string;
  /** Boots of `expected` allowed before rolling back. */
  readonly maxAttempts: number;
  /** Boots of `expected` seen so far. */
  readonly attempts: number;
  /** Boot id of the last counted attempt (a re-run in one boot is not a new attempt). */
  readonly lastBootId: string | null;
  /** `armed`, or `rollback_requested` once the verdict decided to roll back. */
  readonly phase: 'armed' | 'rollback_requested';
  /** The deployment the requested rollback makes the default; null before. */
  readonly rollbackTo: DeploymentRef | null;
  /** Boot id in which the rollback was requested; null before. */
  readonly rollbackBootId: string | null;
}

/** A release that failed on this node: denylisted, never staged again. */
export interface FailedRelease {
  /** Release version. */
  readonly release: string;
  /** Its commit checksum (what the agent denylists). */
  readonly payload: string;
  /** Why it failed (failed checks, fallback). */
  readonly reason: string;
  /** When it was marked failed, ms since the epoch. */
  readonly atMs: number;
  /** True once an automatic rollback away from it was requested (at most one per release). */
  readonly rolledBack: boolean;
}

/** One check's outcome as recorded for status output. */
export interface CheckOutcome {
  /** Check name (file name, or `unit:NAME`). */
  readonly name: string;
  /** `required` checks decide the verdict; `wanted` ones only warn. */
  readonly kind: 'required' | 'wanted';
  /** `passed`, `failed` (non-zero exit or signal), `timeout` (killed), `skipped` (not executable). */
  readonly result: 'passed' | 'failed' | 'timeout' | 'skipped';
  /** Exit code or null. */
  readonly exitCode: number | null;
  /** Last lines of its combined output. */
  readonly outputTail: string;
}

/** Every verdict the health run can record. */
export type VerdictKind = 'healthy' | 'red' | 'rebooting' | 'rolling_back' | 'rolled_back' | 'fallback' | 'manual_intervention';

/** The last verdict, for `alt-updatectl status`, the agent's D-Bus status and the fleet report. */
export interface LastVerdict {
  /** What was decided. */
  readonly verdict: VerdictKind;
  /** Release the verdict is about (the one on trial), or null when nothing was on trial. */
  readonly release: string | null;
  /** Boot id of the run. */
  readonly bootId: string;
  /** When, ms since the epoch. */
  readonly atMs: number;
  /** Human-readable reason, or null. */
  readonly reason: string | null;
  /** The checks of that run. */
  readonly checks: readonly CheckOutcome[];
}

/**
 * A final verdict on a release not yet reported to the fleet (alt-fleetlockd's `v1/verdict`): kept
 * apart from `last` so a later boot's run never overwrites it; the agent clears it once reported.
 */
export interface PendingReport {
  /** The fleet's verdict result. */
  readonly result: 'healthy' | 'failed' | 'rolled_back';
  /** The release the node updated to. */
  readonly release: string;
  /** Why, or null. */
  readonly reason: string | null;
  /** When decided, ms since the epoch. */
  readonly atMs: number;
}

/** The whole record (schema version 1). */
export interface HealthRecord {
  /** The update on trial, or null. */
  readonly trial: Trial | null;
  /** Failed releases, oldest first. */
  readonly failed: readonly FailedRelease[];
  /** The last verdict, or null before the first run. */
  readonly last: LastVerdict | null;
  /** Set in the terminal state "manual intervention required": its reason. */
  readonly manual: string | null;
  /** The final verdict awaiting its fleet report, or null. */
  readonly report: PendingReport | null;
}

/** The record of a node that never ran a health check. */
export const EMPTY_RECORD: HealthRecord = Object.freeze({ trial: null, failed: [], last: null, manual: null, report: null });

/** Most output kept per check, in characters. */
export const OUTPUT_TAIL_CHARS = 2000;

type Obj = Record<string, unknown>;

function bad(file: string, field: string, expected: string): HealthError {
  return new HealthError('HEALTH_STATE_INVALID', `${file}: ${field}: expected ${expected}`);
}
function obj(v: unknown, file: string, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(file, field, 'an object');
  return v as Obj;
}
function str(o: Obj, k: string, file: string, at: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw bad(file, `${at}.${k}`, 'a string');
  return v;
}
function optStr(o: Obj, k: string, file: string, at: string): string | null {
  return o[k] === null || o[k] === undefined ? null : str(o, k, file, at);
}
function num(o: Obj, k: string, file: string, at: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(file, `${at}.${k}`, 'an integer >= 0');
  return v;
}
function ref(v: unknown, file: string, at: string): DeploymentRef {
  const o = obj(v, file, at);
  return { payload: str(o, 'payload', file, at), serial: num(o, 'serial', file, at) };
}
function oneOf<T extends string>(o: Obj, k: string, values: readonly T[], file: string, at: string): T {
  const v = str(o, k, file, at);
  if (!(values as readonly string[]).includes(v)) throw bad(file, `${at}.${k}`, `one of ${values.join(', ')}`);
  return v as T;
}

const VERDICTS: readonly VerdictKind[] = ['healthy', 'red', 'rebooting', 'rolling_back', 'rolled_back', 'fallback', 'manual_intervention'];

/** Parses the record's JSON text; throws `HEALTH_STATE_INVALID` naming `file` and the field. */
export function parseRecord(text: string, file: string): HealthRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err: unknown) {
    throw new HealthError('HEALTH_STATE_INVALID', `${file}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  const o = obj(raw, file, '(top)');
  if (o['version'] !== 1) throw bad(file, 'version', '1');
  const t = o['trial'] === null || o['trial'] === undefined ? null : obj(o['trial'], file, 'trial');
  const trial: Trial | null =
    t === null
      ? null
      : {
          release: str(t, 'release', file, 'trial'),
          expected: ref(t['expected'], file, 'trial.expected'),
          previous: ref(t['previous'], file, 'trial.previous'),
          armedBootId: str(t, 'armedBootId', file, 'trial'),
          maxAttempts: num(t, 'maxAttempts', file, 'trial'),
          attempts: num(t, 'attempts', file, 'trial'),
          lastBootId: optStr(t, 'lastBootId', file, 'trial'),
          phase: oneOf(t, 'phase', ['armed', 'rollback_requested'] as const, file, 'trial'),
          rollbackTo: t['rollbackTo'] === null || t['rollbackTo'] === undefined ? null : ref(t['rollbackTo'], file, 'trial.rollbackTo'),
          rollbackBootId: optStr(t, 'rollbackBootId', file, 'trial'),
        };
  if (!Array.isArray(o['failed'])) throw bad(file, 'failed', 'an array');
  const failed = (o['failed'] as unknown[]).map((f, i): FailedRelease => {
    const at = `failed[${i}]`;
    const e = obj(f, file, at);
    if (typeof e['rolledBack'] !== 'boolean') throw bad(file, `${at}.rolledBack`, 'a boolean');
    return { release: str(e, 'release', file, at), payload: str(e, 'payload', file, at), reason: str(e, 'reason', file, at), atMs: num(e, 'atMs', file, at), rolledBack: e['rolledBack'] };
  });
  const l = o['last'] === null || o['last'] === undefined ? null : obj(o['last'], file, 'last');
  let last: LastVerdict | null = null;
  if (l !== null) {
    if (!Array.isArray(l['checks'])) throw bad(file, 'last.checks', 'an array');
    const checks = (l['checks'] as unknown[]).map((c, i): CheckOutcome => {
      const at = `last.checks[${i}]`;
      const e = obj(c, file, at);
      const code = e['exitCode'];
      if (code !== null && (typeof code !== 'number' || !Number.isSafeInteger(code))) throw bad(file, `${at}.exitCode`, 'an integer or null');
      return {
        name: str(e, 'name', file, at),
        kind: oneOf(e, 'kind', ['required', 'wanted'] as const, file, at),
        result: oneOf(e, 'result', ['passed', 'failed', 'timeout', 'skipped'] as const, file, at),
        exitCode: code as number | null,
        outputTail: str(e, 'outputTail', file, at),
      };
    });
    last = {
      verdict: oneOf(l, 'verdict', VERDICTS, file, 'last'),
      release: optStr(l, 'release', file, 'last'),
      bootId: str(l, 'bootId', file, 'last'),
      atMs: num(l, 'atMs', file, 'last'),
      reason: optStr(l, 'reason', file, 'last'),
      checks,
    };
  }
  const rp = o['report'] === null || o['report'] === undefined ? null : obj(o['report'], file, 'report');
  const report: PendingReport | null =
    rp === null
      ? null
      : { result: oneOf(rp, 'result', ['healthy', 'failed', 'rolled_back'] as const, file, 'report'), release: str(rp, 'release', file, 'report'), reason: optStr(rp, 'reason', file, 'report'), atMs: num(rp, 'atMs', file, 'report') };
  return { trial, failed, last, manual: optStr(o, 'manual', file, '(top)'), report };
}

/** Serialises a record (schema version 1), pretty-printed for people reading it on the node. */
export function serializeRecord(r: HealthRecord): string {
  return `${JSON.stringify({ version: 1, ...r }, null, 2)}\n`;
}

/** True when both name the same deployment. */
export function sameDeployment(a: DeploymentRef | null, b: DeploymentRef | null): boolean {
  return a !== null && b !== null && a.payload === b.payload && a.serial === b.serial;
}
