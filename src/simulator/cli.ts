// `npm run simulate`: argument parsing and output (timeline table, or one JSON summary object).
import { parseArgs } from 'node:util';
import type { Logger } from '../common/logger.js';
import { DEFAULT_SETTINGS } from '../config/settings.js';
import type { StrategyLabel } from '../config/types.js';
import { SimulatorError } from './errors.js';
import { parseFault } from './faults.js';
import type { SimulationOptions, SimulationResult, TimelineRow } from './simulate.js';
import { DEFAULT_HALT_WINDOW_SECS } from './halt.js';
import { DEFAULT_CALENDAR, formatWindows, parseWindows, type SimCalendar } from './windows.js';

const FLAGS_USAGE =
  '--nodes N --slots K [--strategy fleet_lock|immediate|periodic] [--rollout-minutes M]\n' +
  '    [--store embedded|etcd] [--etcd-members 1|3] [--reboot-secs S] [--stage-secs S] [--fail-rate P] [--step-secs S] [--max-hours H]\n' +
  '    [--windows "DAYS HH:MM+MIN [ZONE]; ..."] [--window-start HH:MM --window-minutes M] [--halt-after N] [--halt-window-secs S]\n' +
  '    [--steady-interval-secs S] [--staged-interval-secs S]\n' +
  '    [--seed N] [--json] [--plot FILE.svg] [--verbose]\n' +
  '    [--fault etcd-member|fleetlockd|graphd@START+DURATION ...]';

/** Usage text of `npm run simulate`. */
export const SIMULATE_USAGE = `usage: npm run simulate -- ${FLAGS_USAGE}`;

/** Usage text of `alt-updatectl simulate` (the same flags, over the operator's config). */
export const SIMULATE_CONFIG_USAGE = `usage: alt-updatectl simulate [--root DIR] [--strict] [--lock-config FILE] ${FLAGS_USAGE}`;

/** `npm run simulate` (flags only) or `alt-updatectl simulate` (flags over the config under `--root`). */
export type SimulateMode = 'script' | 'config';

/** The planning values the output says the source of. */
export const PLAN_KEYS = ['strategy', 'windows', 'slots', 'halt-after', 'halt-window-secs', 'steady-interval-secs', 'staged-interval-secs', 'nodes', 'rollout-minutes', 'reboot-secs', 'fail-rate'] as const;
/** One of `PLAN_KEYS`. */
export type PlanKey = (typeof PLAN_KEYS)[number];

/** Parsed command line. */
export interface SimulateArgs {
  readonly options: Omit<SimulationOptions, 'logger'>;
  readonly json: boolean;
  /** Where to write the SVG plot, or null. */
  readonly plot: string | null;
  /** Print the agents' and servers' warnings and errors. */
  readonly verbose: boolean;
  readonly help: boolean;
  /** Where each planning value came from: `--flag`, `default`, or (after `applyAgentConfig`) the config. */
  readonly sources: Readonly<Record<PlanKey, string>>;
  /** `alt-updatectl simulate`: the root the config drop-in directories are read under. */
  readonly root: string;
  /** `alt-updatectl simulate --strict`: config warnings are fatal. */
  readonly strict: boolean;
  /** `alt-updatectl simulate --lock-config FILE`: alt-fleetlockd's config, for the group's slots and halt policy; null without. */
  readonly lockConfig: string | null;
  /** `--halt-window-secs` (or its default), kept apart from `options.halt`, which is null without `--halt-after`. */
  readonly haltWindowSecs: number;
}

const STRATEGIES: readonly StrategyLabel[] = ['fleet_lock', 'immediate', 'periodic'];

function num(v: string | undefined, flag: string, def: number, ok: (n: number) => boolean, what: string): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new SimulatorError('SIM_USAGE', `--${flag}: expected ${what}, got ${JSON.stringify(v)}`);
  return n;
}

const int = (min: number) => (n: number) => Number.isInteger(n) && n >= min;

/** The calendar of `--windows`, or of the shorthand `--window-start HH:MM --window-minutes M` (daily, UTC). */
function calendarOf(s: (k: string) => string | undefined): { calendar: SimCalendar; source: string } {
  const list = s('windows');
  const start = s('window-start');
  const minutes = s('window-minutes');
  if (list !== undefined) {
    if (start !== undefined || minutes !== undefined) throw new SimulatorError('SIM_USAGE', '--windows: give either --windows or the --window-start/--window-minutes shorthand, not both');
    return { calendar: parseWindows(list), source: '--windows' };
  }
  if (start === undefined && minutes === undefined) return { calendar: DEFAULT_CALENDAR, source: 'default' };
  const at = start ?? '02:00';
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(at)) throw new SimulatorError('SIM_USAGE', `--window-start: expected HH:MM (UTC), got ${JSON.stringify(at)}`);
  const length = num(minutes, 'window-minutes', 60, (n) => Number.isInteger(n) && n >= 1 && n <= 10080, 'an integer in 1..10080');
  return { calendar: parseWindows(`daily ${at}+${length} UTC`, '--window-start/--window-minutes'), source: start === undefined ? '--window-minutes' : minutes === undefined ? '--window-start' : '--window-start/--window-minutes' };
}

/** Parses `argv`; throws `SIM_USAGE` naming the flag. `config` mode also takes `--root DIR` and `--strict`. */
export function parseSimulateArgs(argv: readonly string[], mode: SimulateMode = 'script'): SimulateArgs {
  let values: Record<string, string | boolean | string[] | undefined>;
  const usage = mode === 'script' ? SIMULATE_USAGE : SIMULATE_CONFIG_USAGE;
  try {
    const flags = ['nodes', 'slots', 'strategy', 'store', 'etcd-members', 'rollout-minutes', 'reboot-secs', 'stage-secs', 'fail-rate', 'step-secs', 'max-hours', 'windows', 'window-start', 'window-minutes', 'halt-after', 'halt-window-secs', 'steady-interval-secs', 'staged-interval-secs', 'seed', 'plot'];
    if (mode === 'config') flags.push('root', 'lock-config');
    const bools = ['json', 'verbose', ...(mode === 'config' ? ['strict'] : [])];
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: { ...Object.fromEntries(flags.map((f) => [f, { type: 'string' as const }])), ...Object.fromEntries(bools.map((f) => [f, { type: 'boolean' as const }])), help: { type: 'boolean', short: 'h' }, fault: { type: 'string', multiple: true } },
    }));
  } catch (err: unknown) {
    throw new SimulatorError('SIM_USAGE', `${err instanceof Error ? err.message : String(err)}\n${usage}`);
  }
  const s = (k: string): string | undefined => values[k] as string | undefined;
  const strategy = (s('strategy') ?? 'fleet_lock') as StrategyLabel;
  if (!STRATEGIES.includes(strategy)) throw new SimulatorError('SIM_USAGE', `--strategy: expected one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  const { calendar, source: windowsSource } = calendarOf(s);
  if (s('root') === '') throw new SimulatorError('SIM_USAGE', `--root needs a directory\n${usage}`);
  const sources = Object.fromEntries(PLAN_KEYS.map((k) => [k, s(k) === undefined ? 'default' : `--${k}`])) as Record<PlanKey, string>;
  sources.windows = windowsSource;
  const haltAfter = s('halt-after') === undefined ? null : num(s('halt-after'), 'halt-after', 0, int(1), 'an integer >= 1');
  const haltWindowSecs = num(s('halt-window-secs'), 'halt-window-secs', DEFAULT_HALT_WINDOW_SECS, (n) => int(1)(n) && n <= 365 * 86400, 'an integer in 1..31536000');
  const rollout = s('rollout-minutes');
  const storeKind = s('store') ?? 'embedded';
  if (storeKind !== 'embedded' && storeKind !== 'etcd') throw new SimulatorError('SIM_USAGE', `--store: expected embedded or etcd, got ${JSON.stringify(storeKind)}`);
  const members = num(s('etcd-members'), 'etcd-members', 3, (n) => n === 1 || n === 3, '1 or 3') as 1 | 3;
  return {
    help: values.help === true,
    json: values.json === true,
    plot: s('plot') ?? null,
    verbose: values.verbose === true,
    sources,
    root: s('root') ?? '/',
    strict: values.strict === true,
    lockConfig: s('lock-config') ?? null,
    haltWindowSecs,
    options: {
      nodes: num(s('nodes'), 'nodes', 10, int(1), 'an integer >= 1'),
      store: storeKind === 'etcd' ? { kind: 'etcd', members } : { kind: 'embedded' },
      slots: num(s('slots'), 'slots', 1, int(1), 'an integer >= 1'),
      strategy,
      rolloutMinutes: rollout === undefined ? null : num(rollout, 'rollout-minutes', 0, int(0), 'an integer >= 0'),
      rebootSecs: num(s('reboot-secs'), 'reboot-secs', 60, int(0), 'an integer >= 0'),
      stageSecs: num(s('stage-secs'), 'stage-secs', 0, int(0), 'an integer >= 0'),
      failRate: num(s('fail-rate'), 'fail-rate', 0, (n) => n >= 0 && n <= 1, 'a number in 0..1'),
      stepSecs: num(s('step-secs'), 'step-secs', 300, int(1), 'an integer >= 1'),
      maxVirtualSecs: num(s('max-hours'), 'max-hours', 14 * 24, (n) => n > 0, 'a number > 0') * 3600,
      seed: num(s('seed'), 'seed', 1, int(0), 'an integer >= 0'),
      periodic: calendar,
      halt: haltAfter === null ? null : { afterFailures: haltAfter, windowSecs: haltWindowSecs },
      // The shipped agent's poll intervals unless told otherwise (the config's, under alt-updatectl simulate).
      timing: {
        steadyIntervalSecs: num(s('steady-interval-secs'), 'steady-interval-secs', DEFAULT_SETTINGS.agent.timing.steadyIntervalSecs, int(1), 'an integer >= 1'),
        stagedIntervalSecs: num(s('staged-interval-secs'), 'staged-interval-secs', DEFAULT_SETTINGS.agent.timing.stagedIntervalSecs, int(1), 'an integer >= 1'),
      },
      faults: ((values.fault as string[] | undefined) ?? []).map(parseFault),
    },
  };
}

/** The planning values as shown: what the run used, by `PLAN_KEYS`. */
export function planValues(a: SimulateArgs): Record<PlanKey, string> {
  const o = a.options;
  return {
    strategy: o.strategy,
    windows: formatWindows(o.periodic),
    slots: String(o.slots),
    nodes: String(o.nodes),
    'rollout-minutes': o.rolloutMinutes === null ? 'none (offered to every node at once)' : String(o.rolloutMinutes),
    'reboot-secs': String(o.rebootSecs),
    'fail-rate': String(o.failRate),
    'halt-after': o.halt == null ? 'none (failures never halt the group)' : String(o.halt.afterFailures),
    'halt-window-secs': String(o.halt?.windowSecs ?? a.haltWindowSecs),
    'steady-interval-secs': String(o.timing?.steadyIntervalSecs ?? DEFAULT_SETTINGS.agent.timing.steadyIntervalSecs),
    'staged-interval-secs': String(o.timing?.stagedIntervalSecs ?? DEFAULT_SETTINGS.agent.timing.stagedIntervalSecs),
  };
}

/** The plan block above the timeline: each value and where it came from (flag, config or default). */
export function formatPlan(a: SimulateArgs): string {
  const values = planValues(a);
  // Windows matter to `periodic` only, slots to `fleet_lock` only: say so rather than hide them.
  const unused = (k: PlanKey): string =>
    (k === 'windows' && a.options.strategy !== 'periodic') || ((k === 'slots' || k === 'halt-after') && a.options.strategy !== 'fleet_lock') ? `, unused by ${a.options.strategy}` : k === 'halt-window-secs' && a.options.halt == null ? ', unused without halt-after' : '';
  const width = Math.max(...PLAN_KEYS.map((k) => k.length));
  const lines = PLAN_KEYS.map((k) => `  ${k.padEnd(width)} ${values[k]}  (${a.sources[k]}${unused(k)})`);
  return `plan:\n${lines.join('\n')}\n`;
}

function hms(t: number): string {
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  return `${String(h).padStart(3)}h${String(m).padStart(2, '0')}m${String(t % 60).padStart(2, '0')}s`;
}

/** The timeline as text: a row whenever the fleet changed since the last row shown. */
export function formatTimeline(r: SimulationResult): string {
  const versions = [r.previous, r.newest];
  const head = `${'virtual'.padEnd(11)} ${versions.map((v) => v.padStart(13)).join(' ')} ${'staged'.padStart(7)} ${'rebooting'.padStart(10)} ${'slots held'.padStart(11)}`;
  const out = [head];
  let last = '';
  const cells = (row: TimelineRow): string =>
    `${versions.map((v) => String(row.releases[v] ?? 0).padStart(13)).join(' ')} ${String(row.staged).padStart(7)} ${String(row.rebooting).padStart(10)} ${String(row.lockHolders ?? '-').padStart(11)}`;
  for (const row of r.timeline) {
    const c = cells(row);
    if (c === last) continue;
    last = c;
    out.push(`${hms(row.t)} ${c}`);
  }
  return `${out.join('\n')}\n`;
}

/** The closing lines under the timeline. */
export function formatSummary(r: SimulationResult): string {
  const s = r.summary;
  const lines = [
    `${s.nodes} nodes, ${s.strategy}${s.slots === null ? '' : ` with ${s.slots} slots (${s.lock_store ?? '?'} store)`}: ${s.arrived} on ${r.newest}, ${s.rolled_back} rolled back to ${r.previous}` +
      `${s.finished ? '' : ' (NOT FINISHED)'}`,
    `virtual duration ${hms(s.duration_virtual_s).trim()} (${s.duration_virtual_s} s), wall ${s.duration_wall_s} s; at most ${s.max_concurrent_reboots} rebooting at once`,
    `requests: ${s.graph_requests} graph, ${s.lock_requests} lock (latency p50 ${s.lock_latency_ms_p50 ?? '-'} ms, p99 ${s.lock_latency_ms_p99 ?? '-'} ms)`,
    `failed requests (expected while a server is down): ${s.graph_errors} graph, ${s.lock_errors} lock`,
    ...s.faults.map((f) => `fault: ${f.kind} down at ${hms(f.at_s).trim()}, back at ${f.restored_at_s === null ? 'never (the run ended)' : hms(f.restored_at_s).trim()}: ${f.how} (pid ${f.pid_before ?? '?'} -> ${f.pid_after ?? '?'})`),
    `server memory (peak RSS): alt-graphd ${s.graph_server_rss_mib} MiB${s.lock_server_rss_mib === null ? '' : `, alt-fleetlockd ${s.lock_server_rss_mib} MiB`}${s.etcd_member_rss_mib === null ? '' : `, largest etcd member ${s.etcd_member_rss_mib} MiB`}`,
    ...(s.halt_after === null ? [] : [s.halted ? `group HALTED at ${hms(s.halted_at_s ?? 0).trim()} (${s.halt_reason ?? ''}): ${s.held} nodes held on ${r.previous}` : `group not halted (halt after ${s.halt_after} failures)`]),
    s.invariants_ok ? 'invariants: held at every step' : `invariants VIOLATED:\n  ${s.violations.join('\n  ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The agents' and servers' logger: quiet, counting warnings and errors by event; `verbose` prints them. */
export function countingLogger(verbose: boolean): Logger & { readonly counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const say = (level: string) => (f: Record<string, unknown>, m: string): void => {
    const key = `${level}:${typeof f.event === 'string' ? f.event : 'other'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (verbose) process.stderr.write(`simulate: ${level}: ${m}\n`);
  };
  const make = (): Logger => ({ debug: () => undefined, info: () => undefined, warn: say('warning'), error: say('error'), child: () => make() });
  return Object.assign(make(), { counts });
}
