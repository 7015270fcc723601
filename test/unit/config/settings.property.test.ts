import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseFragment, type ParsedFragment } from '../../../src/config/fragments.js';
import { settingsFromFragments } from '../../../src/config/load.js';
import { DEFAULT_SETTINGS } from '../../../src/config/settings.js';
import { WEEKDAYS, type Settings, type Weekday } from '../../../src/config/types.js';

const FULL = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

// A day written any accepted way: short or full name, in lower, upper or capitalised case.
const dayArb = fc
  .tuple(fc.integer({ min: 0, max: 6 }), fc.boolean(), fc.constantFrom('lower', 'upper', 'cap'))
  .map(([i, full, cas]) => {
    const base = full ? FULL[i]! : WEEKDAYS[i]!.toLowerCase();
    const text = cas === 'lower' ? base : cas === 'upper' ? base.toUpperCase() : base[0]!.toUpperCase() + base.slice(1);
    return { text, day: WEEKDAYS[i]! };
  });

const windowArb = fc.record({
  days: fc.array(dayArb, { minLength: 1, maxLength: 9 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
  pad: fc.boolean(),
  length: fc.integer({ min: 1, max: 10080 }),
});

const fragmentArb = fc.record(
  {
    interval: fc.integer({ min: 1, max: 10_000_000 }),
    listen: fc.integer({ min: 0, max: 65535 }).map((p) => `127.0.0.1:${String(p)}`),
    cincinnati: fc.constantFrom('http://u.example/', 'https://u.example:8443/g/${stream}/${basearch}'),
    group: fc.stringMatching(/^[a-zA-Z0-9.-]{1,16}$/),
    nodeUuid: fc.stringMatching(/^[0-9a-fA-F]{32}$/),
    wariness: fc.double({ min: 0, max: 1, noNaN: true }),
    stream: fc.stringMatching(/^[a-zA-Z0-9._-]{1,12}$/),
    enabled: fc.boolean(),
    allowDowngrade: fc.boolean(),
    strategy: fc.constantFrom('immediate', 'fleet_lock', ''),
    maxStageAttempts: fc.integer({ min: 1, max: 1000 }),
    abandonSecs: fc.integer({ min: 0, max: 10_000_000 }),
    fleetLockUrl: fc.integer({ min: 1, max: 9 }).map((n) => `http://lock${String(n)}.example:8080/`),
    token: fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,20}$/),
    timeZone: fc.constantFrom('UTC', 'localtime', 'Europe/Moscow', 'America/New_York', 'Asia/Kolkata'),
    windows: fc.array(windowArb, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);
type Frag = typeof fragmentArb extends fc.Arbitrary<infer T> ? T : never;

function toToml(f: Frag): string {
  const t: Record<string, Record<string, unknown>> = { agent: {}, cincinnati: {}, identity: {}, updates: {} };
  const agent = t['agent']!;
  const updates = t['updates']!;
  if (f.interval !== undefined) agent['timing'] = { steady_interval_secs: f.interval };
  if (f.listen !== undefined) agent['metrics'] = { listen: f.listen };
  if (f.cincinnati !== undefined) t['cincinnati']!['base_url'] = f.cincinnati;
  const id = t['identity']!;
  if (f.group !== undefined) id['group'] = f.group;
  if (f.nodeUuid !== undefined) id['node_uuid'] = f.nodeUuid;
  if (f.wariness !== undefined) id['rollout_wariness'] = f.wariness;
  if (f.stream !== undefined) id['stream'] = f.stream;
  if (f.enabled !== undefined) updates['enabled'] = f.enabled;
  if (f.allowDowngrade !== undefined) updates['allow_downgrade'] = f.allowDowngrade;
  if (f.strategy !== undefined) updates['strategy'] = f.strategy;
  if (f.maxStageAttempts !== undefined) updates['max_stage_attempts'] = f.maxStageAttempts;
  if (f.abandonSecs !== undefined) updates['abandon_secs'] = f.abandonSecs;
  const lock: Record<string, unknown> = {};
  if (f.fleetLockUrl !== undefined) lock['base_url'] = f.fleetLockUrl;
  if (f.token !== undefined) lock['token'] = f.token;
  if (Object.keys(lock).length > 0) updates['fleet_lock'] = lock;
  const periodic: Record<string, unknown> = {};
  if (f.timeZone !== undefined) periodic['time_zone'] = f.timeZone;
  if (f.windows !== undefined && f.windows.length > 0) {
    periodic['window'] = f.windows.map((w) => ({
      days: w.days.map((d) => d.text),
      start_time: w.pad ? `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}` : `${String(w.hour)}:${String(w.minute)}`,
      length_minutes: w.length,
    }));
  }
  if (Object.keys(periodic).length > 0) updates['periodic'] = periodic;
  return stringify(t);
}

// The model: what merging `frags` must give (last-wins scalars, accumulated windows), or the error key.
function expected(frags: Frag[]): Settings | { errorKey: string } {
  const last = <K extends keyof Frag>(k: K): Frag[K] | undefined => frags.reduce<Frag[K] | undefined>((acc, f) => (f[k] !== undefined ? f[k] : acc), undefined);
  const D = DEFAULT_SETTINGS;
  const strategy = last('strategy') === 'fleet_lock' ? 'fleet_lock' : 'immediate';
  const fleetLockUrl = last('fleetLockUrl') ?? null;
  if (strategy === 'fleet_lock' && fleetLockUrl === null) return { errorKey: 'updates.fleet_lock.base_url' };
  return {
    agent: { timing: { steadyIntervalSecs: last('interval') ?? 300, stagedIntervalSecs: 300, postponementIntervalSecs: 60 }, metrics: { listen: last('listen') ?? null } },
    cincinnati: { baseUrl: last('cincinnati') ?? null, caFile: null },
    identity: {
      group: last('group') ?? 'default',
      nodeUuid: last('nodeUuid')?.toLowerCase() ?? null,
      rolloutWariness: last('wariness') ?? null,
      stream: last('stream') ?? null,
    },
    updates: {
      enabled: last('enabled') ?? D.updates.enabled,
      allowDowngrade: last('allowDowngrade') ?? false,
      strategy,
      maxStageAttempts: last('maxStageAttempts') ?? 12,
      abandonSecs: last('abandonSecs') ?? 86400,
      fleetLock: { baseUrl: fleetLockUrl, token: last('token') ?? null, caFile: null, clientCertFile: null, clientKeyFile: null },
      periodic: {
        timeZone: last('timeZone') ?? 'UTC',
        windows: frags.flatMap((f) =>
          (f.windows ?? []).map((w) => ({
            days: WEEKDAYS.filter((d: Weekday) => w.days.some((x) => x.day === d)),
            startMinutes: w.hour * 60 + w.minute,
            lengthMinutes: w.length,
          })),
        ),
      },
    },
    health: D.health,
  };
}

describe('config TOML-to-settings properties', () => {
  it('random valid fragments round-trip into the settings the merge model predicts', () => {
    fc.assert(
      fc.property(fc.array(fragmentArb, { maxLength: 4 }), (frags) => {
        const parsed = frags.map((f, i) => parseFragment(`/etc/alt-updated/config.d/${String(i)}0-p.toml`, toToml(f)));
        const want = expected(frags);
        if ('errorKey' in want) {
          expect(() => settingsFromFragments(parsed)).toThrow(ConfigError);
          return;
        }
        const got = settingsFromFragments(parsed);
        expect(got.settings).toEqual(want);
        expect(got.warnings).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  // Arbitrary nested values under real and made-up key names: the pipeline may accept or reject,
  // but it must only ever throw ConfigError.
  const segment = fc.oneof(
    fc.constantFrom('agent', 'timing', 'metrics', 'listen', 'steady_interval_secs', 'cincinnati', 'base_url', 'identity', 'group', 'node_uuid', 'rollout_wariness', 'stream', 'updates', 'enabled', 'allow_downgrade', 'strategy', 'fleet_lock', 'token', 'periodic', 'time_zone', 'window', 'days', 'start_time', 'length_minutes', 'max_stage_attempts', 'abandon_secs'),
    fc.string({ maxLength: 6 }),
  );
  const { tree } = fc.letrec<{ tree: Record<string, unknown>; value: unknown }>((tie) => ({
    tree: fc.dictionary(segment, tie('value'), { maxKeys: 4 }),
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string({ maxLength: 12 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.date({ noInvalidDate: true }),
      fc.constantFrom('Mon', 'tuesday', '7:5', '25:00', 'fleet_lock', 'periodic', 'http://x/', 'UTC'),
      tie('tree'),
      fc.array(tie('value'), { maxLength: 3 }),
    ),
  }));

  it('arbitrary tables yield Settings or a ConfigError, never another exception', () => {
    fc.assert(
      fc.property(fc.array(tree, { minLength: 1, maxLength: 3 }), (tables) => {
        const frags: ParsedFragment[] = tables.map((table, i) => ({ path: `/f${String(i)}.toml`, table, lines: new Map() }));
        try {
          const r = settingsFromFragments(frags, [], false);
          expect(Object.isFrozen(r.settings)).toBe(true);
        } catch (err: unknown) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).message).not.toContain('\n');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary text yields a parsed fragment or CONFIG_SYNTAX naming the file', () => {
    const text = fc.oneof(fc.string({ maxLength: 80 }), fc.array(fc.constantFrom('[', ']', '[[', '=', '"', "'", 'a', '.', '\n', '#', '1', 'x = ', '{', '}'), { maxLength: 30 }).map((a) => a.join('')));
    fc.assert(
      fc.property(text, (t) => {
        try {
          const frag = parseFragment('/etc/x.toml', t);
          settingsFromFragments([frag]);
        } catch (err: unknown) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).message).toMatch(/^\/etc\/x\.toml/);
        }
      }),
      { numRuns: 500 },
    );
  });
});
