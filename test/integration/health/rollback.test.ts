// The boot health verdict end to end on the fake-boot harness: the real agent, alt-ostreed and
// alt-updated-health (run at every simulated boot before the agent, as its oneshot unit is) on a
// fake-booted ostree sysroot. A release whose required check fails is retried, rolled back and never
// staged again; a check red once is only retried; a boot-loader fallback is a failed update.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecord } from '../../../src/health/record.js';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { assignments, startNotifyListener, type NotifyListener } from '../../helpers/notify-listener.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { agentMetric, agentToml, debugRecords, deployments, updatectl } from '../agent/support.js';

const REF = 'altcos/x86_64/sisyphus';

describe('boot health checks and automatic rollback (fake-boot harness)', () => {
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let node: TestbedNode;
  let v1: string;
  let ctl: string;
  let notify: NotifyListener;
  const statuses = (): string[] => notify.messages.flatMap(assignments).filter((a) => a.startsWith('STATUS='));
  const events = (): string[] => node.records.map((r) => r.event ?? '').filter(Boolean);
  const healthEvents = (from = 0): string[] => node.healthRuns.slice(from).flatMap((r) => r.records.map((x) => x.event ?? '')).filter(Boolean);
  const record = async () => parseRecord(await readFile(join(node.root, 'var/lib/alt-updated/health.json'), 'utf8'), 'health.json');
  const addTo = async (file: string, checksum: string): Promise<void> => writeFile(join(ctl, file), `${checksum}\n`, { flag: 'a' });

  /** Publishes `version`, waits for the agent to finalize it and the backend's reboot hook to run. */
  const updateTo = async (version: string): Promise<{ checksum: string; reboots: number }> => {
    const before = await node.reboots();
    const finalized = events().filter((e) => e === 'update_finalized').length;
    const { checksum } = await repo.commit({ ref: REF, version });
    await waitFor(`the agent finalizes ${version}`, () => events().filter((e) => e === 'update_finalized').length > finalized, 60_000);
    await waitFor('the reboot', async () => (await node.reboots()) > before, 60_000);
    return { checksum, reboots: await node.reboots() };
  };

  beforeAll(async () => {
    repo = await createRepo();
    v1 = (await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' })).checksum;
    http = await serveDir(repo.path);
    graphd = await startTestGraphd({ repoPath: repo.path });
    notify = await startNotifyListener(join(repo.path, '..', 'notify.sock'));
    node = await createTestbedNode({ name: 'hnode', repoUrl: http.url, ref: REF, health: true, healthEnv: { NOTIFY_SOCKET: join(repo.path, '..', 'notify.sock') }, configToml: agentToml(graphd.url, 'immediate', ['[health]', 'boot_attempts = 2', 'check_timeout_secs = 30']), ...debugRecords });
    ctl = join(node.sysroot.stateDir, 'health-ctl');
    await mkdir(ctl, { recursive: true });
    // The admin's required check: red on the releases listed in `bad`, red once on those in `flaky`.
    const dir = join(node.root, 'etc/alt-updated/health.d/required.d');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, '50-app'),
      [
        '#!/bin/sh',
        `b=$(cat ${node.sysroot.stateDir}/booted)`,
        `for c in $(cat ${ctl}/bad 2>/dev/null); do case "$b" in *"$c"*) echo "app is broken on $c"; exit 1;; esac; done`,
        `for c in $(cat ${ctl}/flaky 2>/dev/null); do case "$b" in *"$c"*) [ -e ${ctl}/mark.$c ] || { touch ${ctl}/mark.$c; echo "app not ready yet"; exit 1; };; esac; done`,
        'echo app ok',
        '',
      ].join('\n'),
    );
    await chmod(join(dir, '50-app'), 0o755);
    await node.start();
    await waitFor('the agent polls', () => events().includes('no_update'), 60_000);
  });
  afterAll(async () => {
    notify?.proc.kill();
    await node?.destroy();
    await graphd?.close();
    await http?.close();
  });

  it('the first boot without a trial is healthy and the agent starts', () => {
    expect(node.healthRuns.map((r) => r.code)).toEqual([0]);
    expect(healthEvents()).toContain('health_check_passed');
    expect(statuses()).toEqual(['STATUS=GREEN: boot is healthy']);
  });

  it('a release whose required check fails is retried, rolled back, ends healthy on the previous release and is never staged again', async () => {
    const runs = node.healthRuns.length;
    // The next release's checksum is only known once committed: list v2 as bad as soon as it is.
    const finalized = events().filter((e) => e === 'update_finalized').length;
    const { checksum: v2 } = await repo.commit({ ref: REF, version: '20261102.0.0' });
    await addTo('bad', v2);
    await waitFor('the agent finalizes v2', () => events().filter((e) => e === 'update_finalized').length > finalized, 60_000);
    await waitFor('the reboot', async () => (await node.reboots()) === 1, 60_000);
    const agentBefore = node.records.length;
    expect(await node.powerCycleIfRebooted()).toBe(true);
    // v2 red (attempt 1) -> reboot; v2 red (attempt 2) -> rollback + reboot; v1 green.
    expect(node.healthRuns.slice(runs).map((r) => r.code)).toEqual([1, 1, 0]);
    expect(await node.reboots()).toBe(3);
    expect(await node.sysroot.bootedChecksum()).toBe(v1);
    const ev = healthEvents(runs);
    expect(ev.filter((e) => e === 'health_reboot_retry')).toHaveLength(1);
    expect(ev.filter((e) => e === 'health_rollback_requested')).toHaveLength(1);
    expect(ev).toContain('health_rolled_back');
    expect(statuses().slice(-3)).toEqual(['STATUS=RED: unhealthy; rebooting for another attempt', 'STATUS=RED: unhealthy after every attempt; rolling back', 'STATUS=GREEN: rolled back to the previous release']);
    const rec = await record();
    expect(rec.trial).toBeNull();
    expect(rec.failed.map((f) => [f.payload, f.release, f.rolledBack])).toEqual([[v2, '20261102.0.0', true]]);
    expect(rec.failed[0]!.reason).toContain('50-app failed');
    expect(rec.last?.verdict).toBe('rolled_back');
    expect(rec.last?.checks.map((c) => [c.name, c.result])).toEqual([['50-app', 'passed']]);
    // The agent runs again on v1 and never stages v2.
    await waitFor('polling after the rollback', () => node.records.slice(agentBefore).filter((r) => r.event === 'no_update').length >= 3, 60_000);
    expect(node.records.slice(agentBefore).map((r) => r.event)).not.toContain('update_staged');
    expect((await deployments(node)).staged).toBeNull();
    expect(node.records.slice(agentBefore).find((r) => r.event === 'failed_release_denylisted')?.['payload']).toBe(v2);
    // alt-updatectl status shows the verdict and the failed release.
    const st = await updatectl(['status', '--json', '--bus-address', node.bus.address, '--root', node.root]);
    expect(st.code, st.stderr).toBe(0);
    const health = (JSON.parse(st.stdout) as { health: { last_verdict: string; failed_releases: { release: string; rolled_back: boolean }[] } }).health;
    expect(health.last_verdict).toBe('rolled_back');
    expect(health.failed_releases).toEqual([expect.objectContaining({ release: '20261102.0.0', rolled_back: true })]);
    // ... and so do the metrics.
    expect(await agentMetric(node, 'alt_updated_health_rollbacks')).toBe(1);
    expect(await agentMetric(node, 'alt_updated_health_failed_releases')).toBe(1);
    expect(await agentMetric(node, 'alt_updated_health_last_verdict{verdict="rolled_back"}')).toBe(1);
  });

  it('a check red once and green on the next attempt: no rollback', async () => {
    const runs = node.healthRuns.length;
    const finalized = events().filter((e) => e === 'update_finalized').length;
    const { checksum: v3 } = await repo.commit({ ref: REF, version: '20261103.0.0' });
    await addTo('flaky', v3);
    await waitFor('the agent finalizes v3', () => events().filter((e) => e === 'update_finalized').length > finalized, 60_000);
    await waitFor('the reboot', async () => (await node.reboots()) === 4, 60_000);
    await node.powerCycleIfRebooted();
    expect(node.healthRuns.slice(runs).map((r) => r.code)).toEqual([1, 0]);
    expect(await node.reboots()).toBe(5);
    expect(await node.sysroot.bootedChecksum()).toBe(v3);
    expect(healthEvents(runs)).not.toContain('health_rollback_requested');
    const rec = await record();
    expect(rec.trial).toBeNull();
    expect(rec.last?.verdict).toBe('healthy');
    expect(rec.failed.map((f) => f.release)).toEqual(['20261102.0.0']);
  });

  it('a boot-loader fallback (the next boot is not the expected deployment) is recorded as a failed update and made permanent', async () => {
    const runs = node.healthRuns.length;
    const bootedFile = join(node.sysroot.stateDir, 'booted');
    const previous = await readFile(bootedFile, 'utf8');
    const { checksum: v4 } = await updateTo('20261104.0.0');
    // The boot loader falls back to the previous entry (as GRUB does after a failed boot).
    await writeFile(bootedFile, previous);
    await node.powerCycleIfRebooted();
    expect(node.healthRuns.slice(runs).map((r) => r.code)).toEqual([0]);
    expect(healthEvents(runs)).toContain('health_fallback');
    const rec = await record();
    expect(rec.failed.map((f) => f.payload)).toContain(v4);
    expect(rec.failed.find((f) => f.payload === v4)?.reason).toContain('fell back');
    expect(rec.last?.verdict).toBe('fallback');
    const set = await deployments(node);
    expect(set.deployments.map((d) => d.checksum)).not.toContain(v4);
    expect(set.booted?.checksum).toBe(set.deployments[0]?.checksum);
  });
});
