// `npm run simulate` arguments (src/simulator/cli.ts): defaults, and errors that name the flag.
import { describe, expect, it } from 'vitest';
import { parseSimulateArgs } from '../../../src/simulator/cli.js';

describe('parseSimulateArgs', () => {
  it('reads the flags of the issue, with defaults for the rest', () => {
    const a = parseSimulateArgs(['--nodes', '1000', '--slots', '5', '--strategy', 'periodic', '--rollout-minutes', '90', '--reboot-secs', '45', '--fail-rate', '0.02', '--json']);
    expect(a.json).toBe(true);
    expect(a.options).toMatchObject({ nodes: 1000, slots: 5, strategy: 'periodic', rolloutMinutes: 90, rebootSecs: 45, failRate: 0.02, stageSecs: 0, seed: 1 });
    expect(parseSimulateArgs(['--store', 'etcd']).options.store).toEqual({ kind: 'etcd', members: 3 });
    expect(parseSimulateArgs(['--store', 'etcd', '--etcd-members', '1']).options.store).toEqual({ kind: 'etcd', members: 1 });
    expect(parseSimulateArgs([]).options.store).toEqual({ kind: 'embedded' });
    expect(parseSimulateArgs([]).options).toMatchObject({ nodes: 10, slots: 1, strategy: 'fleet_lock', rolloutMinutes: null, rebootSecs: 60, failRate: 0 });
  });

  it.each([
    [['--nodes', '0'], '--nodes'],
    [['--nodes', '1.5'], '--nodes'],
    [['--fail-rate', '2'], '--fail-rate'],
    [['--strategy', 'fast'], '--strategy'],
    [['--window-start', '25:00'], '--window-start'],
    [['--store', 'zk'], '--store'],
    [['--etcd-members', '2'], '--etcd-members'],
    [['--bogus'], 'bogus'],
    [['--windows', 'Mon 02:00+60', '--window-start', '03:00'], '--windows'],
    [['--windows', 'Someday 02:00+60'], '--windows: "Someday"'],
    [['--root', '/'], 'root'],
    [['--halt-after', '0'], '--halt-after'],
    [['--halt-window-secs', '-5'], '--halt-window-secs'],
  ])('%j is a usage error naming %s', (argv, flag) => {
    expect(() => parseSimulateArgs(argv)).toThrow(expect.objectContaining({ code: 'SIM_USAGE', message: expect.stringContaining(flag) }));
  });

  it('reads --windows into the agent calendar, and the old daily UTC flags as its shorthand', () => {
    const w = parseSimulateArgs(['--windows', 'Mon-Wed 02:00+60 Europe/Moscow; Sat 22:00+120']);
    expect(w.options.periodic).toEqual({
      timeZone: 'Europe/Moscow',
      windows: [
        { days: ['Mon', 'Tue', 'Wed'], startMinutes: 120, lengthMinutes: 60 },
        { days: ['Sat'], startMinutes: 1320, lengthMinutes: 120 },
      ],
    });
    expect(w.sources.windows).toBe('--windows');
    const short = parseSimulateArgs(['--window-start', '03:30', '--window-minutes', '90']);
    expect(short.options.periodic).toEqual(parseSimulateArgs(['--windows', 'daily 03:30+90 UTC']).options.periodic);
    expect(short.sources.windows).toBe('--window-start/--window-minutes');
    expect(parseSimulateArgs([]).sources).toMatchObject({ windows: 'default', nodes: 'default', strategy: 'default' });
  });

  it('takes --root, --strict and --lock-config only as alt-updatectl simulate (config mode)', () => {
    const a = parseSimulateArgs(['--root', '/tmp/r', '--strict', '--lock-config', '/etc/l.toml', '--slots', '3'], 'config');
    expect(a).toMatchObject({ root: '/tmp/r', strict: true, lockConfig: '/etc/l.toml' });
    expect(a.sources.slots).toBe('--slots');
    expect(() => parseSimulateArgs(['--lock-config', 'x'])).toThrow(/lock-config/);
  });

  it('reads the halt policy: --halt-after N with --halt-window-secs S (default one day), none without', () => {
    expect(parseSimulateArgs(['--halt-after', '3', '--halt-window-secs', '600']).options.halt).toEqual({ afterFailures: 3, windowSecs: 600 });
    expect(parseSimulateArgs(['--halt-after', '3']).options.halt).toEqual({ afterFailures: 3, windowSecs: 86400 });
    const none = parseSimulateArgs([]);
    expect(none.options.halt).toBeNull();
    expect(none.sources).toMatchObject({ 'halt-after': 'default', 'halt-window-secs': 'default' });
  });

  it('reads repeated --fault flags in order, none without, and names a bad one', () => {
    expect(parseSimulateArgs([]).options.faults).toEqual([]);
    expect(parseSimulateArgs(['--fault', 'etcd-member@30m+10m', '--fault', 'graphd@20m+30m']).options.faults).toEqual([
      { kind: 'etcd-member', atSecs: 1800, forSecs: 600 },
      { kind: 'graphd', atSecs: 1200, forSecs: 1800 },
    ]);
    expect(() => parseSimulateArgs(['--fault', 'graphd@20m'])).toThrow(/--fault "graphd@20m"/);
  });

  it("runs the agents with the shipped poll intervals unless --steady-interval-secs / --staged-interval-secs say otherwise", () => {
    expect(parseSimulateArgs([]).options.timing).toEqual({ steadyIntervalSecs: 300, stagedIntervalSecs: 300 });
    const a = parseSimulateArgs(['--steady-interval-secs', '120', '--staged-interval-secs', '60']);
    expect(a.options.timing).toEqual({ steadyIntervalSecs: 120, stagedIntervalSecs: 60 });
    expect(a.sources).toMatchObject({ 'steady-interval-secs': '--steady-interval-secs', 'staged-interval-secs': '--staged-interval-secs' });
    expect(() => parseSimulateArgs(['--staged-interval-secs', '0'])).toThrow(/--staged-interval-secs: expected an integer >= 1/);
  });
});
