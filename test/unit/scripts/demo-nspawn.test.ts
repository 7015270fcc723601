import { describe, expect, it } from 'vitest';
import { runNspawnDemo } from '../../../scripts/demo-nspawn.js';

describe('npm run demo on a machine that cannot boot real nodes', () => {
  it('prints one line saying why and what to install, exits 1, builds nothing', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const missing = 'real-node tests skipped: they need systemd-nspawn (apt-get install systemd-container) and debootstrap, as root; missing: systemd-nspawn (apt-get install systemd-container)';
    const code = await runNspawnDemo(
      { nodes: 3, strategy: 'fleet_lock', slots: 1, timeoutSecs: 60, json: false },
      { out: (l) => out.push(l), err: (l) => err.push(l), probe: () => Promise.resolve(missing) },
    );
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^demo: cannot boot real nodes here \(missing: systemd-nspawn \(apt-get install systemd-container\)\); /);
    expect(err[0]).toContain('bash scripts/setup.sh');
    expect(err[0]).toContain('apt-get install systemd-container debootstrap');
    expect(err[0]).not.toMatch(/\n|\bat .*\.js:\d+/);
  });

  it('says so in --json mode too, on stderr, with nothing on stdout', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runNspawnDemo(
      { nodes: 1, strategy: 'immediate', slots: 1, timeoutSecs: 60, json: true },
      { out: (l) => out.push(l), err: (l) => err.push(l), probe: () => Promise.resolve('real-node tests skipped: they need systemd-nspawn (apt-get install systemd-container) and debootstrap, as root; this run is not root') },
    );
    expect([code, out, err.length]).toEqual([1, [], 1]);
    expect(err[0]).toContain('(this run is not root)');
  });
});
