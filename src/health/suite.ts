// Runs a boot's checks (required.d, wanted.d, required systemd units) and the green/red hooks, logging
// one stable event per check. Bad input never throws: a hang is a timeout, a non-executable file is
// skipped with a warning, a missing directory holds no checks.
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import { discover, type CheckSet } from './checks.js';
import type { CheckOutcome } from './record.js';
import { runCommand } from './run.js';

/** What the suite needs. */
export interface SuiteOptions {
  /** Root the check directories are looked up under (`/` on a node). */
  readonly root: string;
  /** Per-check (and per-hook) deadline, ms. */
  readonly timeoutMs: number;
  /** systemd units that must be active (`systemctl is-active`). */
  readonly requiredUnits: readonly string[];
  /** `systemctl` argv prefix for unit checks. @default ["systemctl"] */
  readonly systemctl?: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Runs every check; required and wanted ones, then the units (which count as required). */
export async function runChecks(o: SuiteOptions): Promise<CheckOutcome[]> {
  const out: CheckOutcome[] = [];
  for (const kind of ['required', 'wanted'] as const) {
    const set: CheckSet = kind === 'required' ? 'required.d' : 'wanted.d';
    let found;
    try {
      found = await discover(o.root, set);
    } catch (err: unknown) {
      // An unreadable directory is a failed required check: the admin put something there.
      const outcome: CheckOutcome = { name: set, kind, result: 'failed', exitCode: null, outputTail: `cannot list ${set}: ${(err as Error).message}` };
      o.logger.error({ event: 'health_check_failed', check: set, kind }, outcome.outputTail);
      out.push(outcome);
      continue;
    }
    for (const s of found.skipped) {
      o.logger.warn({ event: 'health_check_skipped', check: s.entry.name, path: s.entry.path, kind }, `health check ${s.entry.path} skipped: ${s.why}`);
      out.push({ name: s.entry.name, kind, result: 'skipped', exitCode: null, outputTail: s.why });
    }
    for (const c of found.runnable) out.push(await runOne(o, c.name, kind, [c.path]));
  }
  for (const unit of o.requiredUnits) {
    out.push(await runOne(o, `unit:${unit}`, 'required', [...(o.systemctl ?? ['systemctl']), 'is-active', '--quiet', '--', unit]));
  }
  return out;
}

async function runOne(o: SuiteOptions, name: string, kind: 'required' | 'wanted', argv: readonly string[]): Promise<CheckOutcome> {
  const r = await runCommand(argv, { timeoutMs: o.timeoutMs, clock: o.clock });
  const outcome: CheckOutcome = { name, kind, ...r };
  if (r.result === 'passed') {
    o.logger.info({ event: 'health_check_passed', check: name, kind }, `health check ${name} passed`);
  } else {
    const what = r.result === 'timeout' ? `timed out after ${o.timeoutMs} ms and was killed` : `failed (exit ${r.exitCode ?? 'signal'})`;
    const level = kind === 'required' ? 'error' : 'warn';
    o.logger[level]({ event: r.result === 'timeout' ? 'health_check_timeout' : 'health_check_failed', check: name, kind, exitCode: r.exitCode, output: r.outputTail }, `${kind} health check ${name} ${what}`);
  }
  return outcome;
}

/** True when every required check passed (skipped ones do not count either way). */
export function requiredPassed(checks: readonly CheckOutcome[]): boolean {
  return checks.every((c) => c.kind !== 'required' || c.result === 'passed' || c.result === 'skipped');
}

/** One line naming the failed required checks. */
export function failedSummary(checks: readonly CheckOutcome[]): string {
  const bad = checks.filter((c) => c.kind === 'required' && (c.result === 'failed' || c.result === 'timeout'));
  return bad.map((c) => `${c.name} ${c.result === 'timeout' ? 'timed out' : 'failed'}`).join(', ');
}

/** Runs the `green.d` or `red.d` hooks; their failures are logged, never change the verdict. */
export async function runHooks(o: SuiteOptions, set: 'green.d' | 'red.d'): Promise<void> {
  const found = await discover(o.root, set).catch(() => ({ runnable: [], skipped: [] }));
  for (const s of found.skipped) o.logger.warn({ event: 'health_hook_skipped', hook: s.entry.path }, `health hook ${s.entry.path} skipped: ${s.why}`);
  for (const h of found.runnable) {
    const r = await runCommand([h.path], { timeoutMs: o.timeoutMs, clock: o.clock });
    if (r.result !== 'passed') o.logger.warn({ event: 'health_hook_failed', hook: h.path, output: r.outputTail }, `health hook ${h.path} ${r.result}`);
  }
}
