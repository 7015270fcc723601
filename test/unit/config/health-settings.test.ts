// The [health] keys (issue 15): defaults, valid values, and one-line errors naming file and key.
import { describe, expect, it } from 'vitest';
import { parseFragment } from '../../../src/config/fragments.js';
import { settingsFromFragments } from '../../../src/config/load.js';

const load = (text: string) => settingsFromFragments([parseFragment('/etc/alt-updated/config.d/60-health.toml', text)]).settings.health;

describe('config [health]', () => {
  it('defaults to enabled, 60 s per check, 2 boot attempts, /var/lib/alt-updated', () => {
    expect(load('')).toEqual({ enabled: true, requiredUnits: [], checkTimeoutSecs: 60, bootAttempts: 2, stateDir: '/var/lib/alt-updated' });
  });

  it('reads every key', () => {
    expect(load('[health]\nenabled = false\nrequired_units = ["sshd.service", "app@1.service"]\ncheck_timeout_secs = 5\nboot_attempts = 3\nstate_dir = "/var/lib/x"\n')).toEqual({
      enabled: false,
      requiredUnits: ['sshd.service', 'app@1.service'],
      checkTimeoutSecs: 5,
      bootAttempts: 3,
      stateDir: '/var/lib/x',
    });
  });

  it.each([
    ['required_units = "sshd.service"', 'health.required_units: expected an array of systemd unit names like "sshd.service"'],
    ['required_units = ["sshd"]', 'health.required_units: expected an array of systemd unit names'],
    ['check_timeout_secs = 0', 'health.check_timeout_secs: expected an integer 1..86400 (seconds), got integer 0'],
    ['boot_attempts = 0', 'health.boot_attempts: expected an integer 1..100, got integer 0'],
    ['state_dir = "var/lib"', 'health.state_dir: expected an absolute directory path'],
    ['enabled = "yes"', 'health.enabled: expected a boolean'],
  ])('refuses %s with a message naming file and key', (line, msg) => {
    expect(() => load(`[health]\n${line}\n`)).toThrow(`/etc/alt-updated/config.d/60-health.toml: ${msg}`);
  });
});
