// `alt-updatectl simulate`'s config -> options mapping (src/simulator/config.ts): the agent config gives
// the strategy and calendar, alt-fleetlockd's config the group's slots, flags win, and every value says
// where it came from.
import { describe, expect, it } from 'vitest';
import { parseFragment } from '../../../src/config/fragments.js';
import { settingsFromFragments, type LoadedSettings } from '../../../src/config/load.js';
import { parseConfigText } from '../../../src/fleetlock/server/config.js';
import { parseSimulateArgs } from '../../../src/simulator/cli.js';
import { applyAgentConfig } from '../../../src/simulator/config.js';
import { DEFAULT_CALENDAR } from '../../../src/simulator/windows.js';

function loaded(...files: [string, string][]): LoadedSettings {
  return { ...settingsFromFragments(files.map(([f, t]) => parseFragment(f, t))), fragments: files.map(([f]) => f) };
}

const PERIODIC = [
  '/etc/alt-updated/config.d/50-periodic.toml',
  '[updates]\nstrategy = "periodic"\n[updates.periodic]\ntime_zone = "Europe/Moscow"\n[[updates.periodic.window]]\ndays = ["Sat", "Sun"]\nstart_time = "22:00"\nlength_minutes = 120\n',
] as [string, string];
const FLEET = ['/etc/alt-updated/config.d/40-lock.toml', '[identity]\ngroup = "workers"\n[updates]\nstrategy = "fleet_lock"\nfleet_lock.base_url = "http://lock:9473/"\n'] as [string, string];
const LOCK = { file: '/etc/alt-fleetlockd/config.toml', config: parseConfigText('[groups.workers]\nslots = 4\n[groups.default]\nslots = 9\n', '/etc/alt-fleetlockd/config.toml') };

describe('applyAgentConfig', () => {
  it('takes the strategy and every window with its zone from the config, naming the file and keys', () => {
    const a = applyAgentConfig(parseSimulateArgs(['--nodes', '20'], 'config'), loaded(PERIODIC), null);
    expect(a.options.strategy).toBe('periodic');
    expect(a.options.periodic).toEqual({ timeZone: 'Europe/Moscow', windows: [{ days: ['Sat', 'Sun'], startMinutes: 1320, lengthMinutes: 120 }] });
    expect(a.sources.strategy).toBe(`config ${PERIODIC[0]}: updates.strategy`);
    expect(a.sources.windows).toBe(`config ${PERIODIC[0]}: updates.periodic.window, updates.periodic.time_zone`);
    expect(a.sources.nodes).toBe('--nodes');
    expect(a.sources.slots).toBe('default');
  });

  it('lets flags win over the config', () => {
    const a = applyAgentConfig(parseSimulateArgs(['--strategy', 'immediate', '--windows', 'Mon 01:00+30'], 'config'), loaded(PERIODIC), null);
    expect(a.options.strategy).toBe('immediate');
    expect(a.options.periodic).toEqual({ timeZone: 'UTC', windows: [{ days: ['Mon'], startMinutes: 60, lengthMinutes: 30 }] });
    expect(a.sources).toMatchObject({ strategy: '--strategy', windows: '--windows' });
  });

  it('uses the agent default strategy for a config that sets none, and keeps the default calendar without windows', () => {
    const a = applyAgentConfig(parseSimulateArgs([], 'config'), loaded(), null);
    expect(a.options.strategy).toBe('immediate');
    expect(a.sources.strategy).toBe('agent default: updates.strategy unset');
    expect(a.options.periodic).toEqual(DEFAULT_CALENDAR);
    expect(a.sources.windows).toMatch(/^default: the config has no/);
  });

  it("takes the slots of the nodes' group from alt-fleetlockd's config, unless --slots is given", () => {
    const a = applyAgentConfig(parseSimulateArgs([], 'config'), loaded(FLEET), LOCK);
    expect(a.options).toMatchObject({ strategy: 'fleet_lock', slots: 4 });
    expect(a.sources.slots).toBe(`lock config ${LOCK.file}: groups.workers.slots`);
    expect(applyAgentConfig(parseSimulateArgs(['--slots', '2'], 'config'), loaded(FLEET), LOCK).options.slots).toBe(2);
  });

  it("fails naming the lock config file and groups.<group> when the nodes' group is not there", () => {
    const other = { file: '/etc/alt-fleetlockd/config.toml', config: parseConfigText('[groups.db]\nslots = 1\n', 'x') };
    expect(() => applyAgentConfig(parseSimulateArgs([], 'config'), loaded(FLEET), other)).toThrow(
      expect.objectContaining({ code: 'FLEETLOCKD_CONFIG_INVALID', message: expect.stringMatching(/^\/etc\/alt-fleetlockd\/config\.toml: 'groups\.workers': no such group .*40-lock\.toml/) }),
    );
  });

  it("takes the group's halt policy from alt-fleetlockd's config, each key unless its flag is given", () => {
    const lock = { file: '/etc/l.toml', config: parseConfigText('[groups.workers]\nslots = 2\nhalt_after_failures = 5\nhalt_window_secs = 7200\n', '/etc/l.toml') };
    const a = applyAgentConfig(parseSimulateArgs([], 'config'), loaded(FLEET), lock);
    expect(a.options.halt).toEqual({ afterFailures: 5, windowSecs: 7200 });
    expect(a.sources).toMatchObject({ 'halt-after': 'lock config /etc/l.toml: groups.workers.halt_after_failures', 'halt-window-secs': 'lock config /etc/l.toml: groups.workers.halt_window_secs' });
    expect(applyAgentConfig(parseSimulateArgs(['--halt-after', '2'], 'config'), loaded(FLEET), lock).options.halt).toEqual({ afterFailures: 2, windowSecs: 7200 });
    expect(applyAgentConfig(parseSimulateArgs(['--halt-window-secs', '60'], 'config'), loaded(FLEET), lock).options.halt).toEqual({ afterFailures: 5, windowSecs: 60 });
    // A group without the policy never halts, and the plan says the key is unset.
    const plain = applyAgentConfig(parseSimulateArgs([], 'config'), loaded(FLEET), LOCK);
    expect(plain.options.halt).toBeNull();
    expect(plain.sources['halt-after']).toBe(`lock config ${LOCK.file}: groups.workers.halt_after_failures unset`);
  });

  it("takes the agents' poll intervals from [agent.timing], a flag winning, the shipped default when unset", () => {
    const timing = ['/etc/alt-updated/config.d/30-timing.toml', '[agent.timing]\nstaged_interval_secs = 60\n'] as [string, string];
    const a = applyAgentConfig(parseSimulateArgs([], 'config'), loaded(timing), null);
    expect(a.options.timing).toEqual({ steadyIntervalSecs: 300, stagedIntervalSecs: 60 });
    expect(a.sources).toMatchObject({
      'staged-interval-secs': `config ${timing[0]}: agent.timing.staged_interval_secs`,
      'steady-interval-secs': 'agent default: agent.timing.steady_interval_secs unset',
    });
    expect(applyAgentConfig(parseSimulateArgs(['--staged-interval-secs', '30'], 'config'), loaded(timing), null).options.timing).toEqual({ steadyIntervalSecs: 300, stagedIntervalSecs: 30 });
  });
});
