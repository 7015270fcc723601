// The real agent process restarted (SIGTERM and SIGKILL) in every state, against the real
// alt-ostreed (fake-booted ostree sysroot), alt-graphd and alt-fleetlockd with one slot. One node
// walks the whole lifecycle, v1 -> (v2 staged, replaced by v3) -> v3, and is restarted on the way:
// every restart must recompute from the backend's deployments, adopt a locked staged deployment of
// the target instead of staging it again, and never reboot twice for one update.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createTestbedNode, type AgentRecord, type TestbedNode } from '../../helpers/testbed-node.js';
import { agentStatus, agentToml, debugRecords, deployments, REF, since, startFleetlockd, type TestFleetlockd } from './support.js';

const OTHER = { id: 'other-node', group: 'default' };

describe('alt-updated restarted in every state (fleet_lock, one slot)', () => {
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let fleet: TestFleetlockd;
  let node: TestbedNode;
  let v1: string;
  let v2: string;
  let v3: string;
  // Kill the agent the moment it logs `event` (for `release`): the restart then lands in that state.
  let killAt: { event: string; release?: string; signal: NodeJS.Signals; done: () => void } | null = null;

  const onRecord = (name: string, rec: AgentRecord): void => {
    debugRecords.onRecord?.(name, rec);
    const k = killAt;
    if (k === null || rec.event !== k.event || (k.release !== undefined && rec.release !== k.release)) return;
    killAt = null;
    const child = node.agent();
    if (child === null || child.exitCode !== null || child.signalCode !== null) return k.done();
    child.once('exit', () => k.done());
    child.kill(k.signal);
  };
  /** Arms a kill at `event` and resolves once that agent process has exited. */
  const killOn = (event: string, signal: NodeJS.Signals, release?: string): Promise<void> =>
    new Promise<void>((done) => {
      killAt = { event, signal, done, ...(release === undefined ? {} : { release }) };
    });
  /** Waits for the killed process, then starts a new agent; returns the record index of the new run. */
  const restart = async (killed: Promise<void>): Promise<number> => {
    await killed;
    await node.stopAgent();
    const mark = node.records.length;
    await node.startAgent();
    return mark;
  };
  const stageStarts = (from: number, version: string): number => since(node, from, 'stage_started').filter((r) => r.release === version).length;
  const deniedByLock = (from: number): number =>
    since(node, from, 'strategy_error').filter((r) => r.kind === 'failed_lock_semaphore_full').length;

  beforeAll(async () => {
    repo = await createRepo();
    v1 = (await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' })).checksum;
    http = await serveDir(repo.path);
    graphd = await startTestGraphd({ repoPath: repo.path });
    fleet = await startFleetlockd(1);
    node = await createTestbedNode({
      name: 'restarts',
      repoUrl: http.url,
      ref: REF,
      onRecord,
      configToml: agentToml(graphd.url, 'fleet_lock', ['[updates.fleet_lock]', `base_url = "${fleet.url}"`]),
    });
  });
  afterAll(async () => {
    await node?.destroy();
    await fleet?.stop();
    await graphd?.close();
    await http?.close();
  });

  it('restarts in initialized, reported_steady and no_new_update recompute from the deployments and stay on the booted release', async () => {
    // initialized (SIGKILL right after start-up), then reported_steady (SIGTERM).
    const killedInit = killOn('agent_initialized', 'SIGKILL');
    await node.start();
    let mark = await restart(killedInit);
    mark = await restart(killOn('steady_reported', 'SIGTERM'));
    // no_new_update, SIGKILL and SIGTERM.
    await waitFor('an empty update check', () => since(node, mark, 'no_update').length >= 1);
    await node.stopAgent('SIGKILL');
    mark = node.records.length;
    await node.startAgent();
    await waitFor('an empty update check', () => since(node, mark, 'no_update').length >= 1);
    await node.stopAgent('SIGTERM');
    mark = node.records.length;
    await node.startAgent();
    await waitFor('two empty update checks after the last restart', () => since(node, mark, 'no_update').length >= 2);

    // Every run recomputed its facts from the backend: the booted deployment is denylisted again.
    const runs = node.records.filter((r) => r.event === 'agent_initialized').length;
    expect(runs).toBe(5);
    expect(node.records.filter((r) => r.event === 'deployment_denylisted' && r.payload === v1)).toHaveLength(5);
    expect(node.records.some((r) => r.event === 'update_found')).toBe(false);
    const set = await deployments(node);
    expect(set.deployments.map((d) => d.checksum)).toEqual([v1]);
    expect(set.booted?.checksum).toBe(v1);
    expect(await fleet.holders()).toEqual([]);
    expect(await node.reboots()).toBe(0);
  });

  it('a restart while staging (update_available) ends with exactly one locked staged deployment of the target', async () => {
    await fleet.client.preReboot(OTHER); // the only slot is taken: the update must stay staged
    const from = node.records.length;
    const killed = killOn('stage_started', 'SIGTERM', '20261115.0.0');
    v2 = (await repo.commit({ ref: REF, version: '20261115.0.0' })).checksum;
    await graphd.service.refresh();
    const mark = await restart(killed);
    await waitFor('v2 staged after the restart', () => since(node, mark, 'update_staged').some((r) => r.release === '20261115.0.0'));
    await waitFor('the lock server refusing the reboot', () => deniedByLock(mark) >= 1);

    const set = await deployments(node);
    expect(set.staged?.checksum).toBe(v2);
    expect(set.staged?.finalizationLocked).toBe(true);
    expect(set.deployments.map((d) => d.checksum).sort()).toEqual([v1, v2].sort());
    // At most one stage per run: the interrupted one and, unless it had completed, one more.
    expect(stageStarts(from, '20261115.0.0')).toBeLessThanOrEqual(2);
    expect(stageStarts(mark, '20261115.0.0')).toBeLessThanOrEqual(1);
    expect(await node.reboots()).toBe(0);
  });

  it('restarts while staged and held back adopt the staged deployment without staging it again (SIGTERM and SIGKILL)', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await node.stopAgent(signal);
      const mark = node.records.length;
      await node.startAgent();
      await waitFor(`adoption after ${signal}`, () => since(node, mark, 'update_staged').length >= 1);
      await waitFor(`lock refusals after ${signal}`, () => deniedByLock(mark) >= 2);
      const staged = since(node, mark, 'update_staged');
      expect(staged.map((r) => [r.release, r.adopted])).toEqual([['20261115.0.0', true]]);
      expect(stageStarts(mark, '20261115.0.0')).toBe(0);
      const set = await deployments(node);
      expect(set.staged?.checksum).toBe(v2);
      expect(set.deployments).toHaveLength(2);
      // The operator view is recomputed too.
      expect(await agentStatus(node)).toMatchObject({ state: 'update_staged', booted_version: '20261101.0.0', staged_version: '20261115.0.0' });
    }
    expect(await fleet.holders()).toEqual([OTHER.id]);
    expect(await node.reboots()).toBe(0);
  });

  it('a newer release replaces the staged one (coreos/zincati#928), also across a SIGKILL while staging it', async () => {
    const from = node.records.length;
    const killed = killOn('stage_started', 'SIGKILL', '20261122.0.0');
    v3 = (await repo.commit({ ref: REF, version: '20261122.0.0' })).checksum;
    await graphd.service.refresh();
    const mark = await restart(killed);
    await waitFor('v3 staged after the restart', () => since(node, mark, 'update_staged').some((r) => r.release === '20261122.0.0'));
    await waitFor('the lock server refusing the reboot', () => deniedByLock(mark) >= 1);

    expect(since(node, from, 'update_replaced').map((r) => [r.release, r.replaces])).toEqual([['20261122.0.0', '20261115.0.0']]);
    expect(since(node, from, 'pending_deployment_removed').map((r) => r.payload)).toEqual([v2]);
    const set = await deployments(node);
    expect(set.staged?.checksum).toBe(v3);
    expect(set.staged?.finalizationLocked).toBe(true);
    expect(set.deployments.map((d) => d.checksum).sort()).toEqual([v1, v3].sort());
    expect(stageStarts(mark, '20261122.0.0')).toBeLessThanOrEqual(1);
    expect(await node.reboots()).toBe(0);
  });

  it('fleet lock denied then granted: no reboot while another node holds the slot, exactly one once it is free', async () => {
    const mark = node.records.length;
    await waitFor('two more refusals', () => deniedByLock(mark) >= 2);
    expect(await node.reboots()).toBe(0);
    expect(since(node, mark, 'update_finalizing')).toHaveLength(0);

    // Granted, but a logged-in user holds the reboot (grace period): the agent now sits on the slot
    // (a block inhibitor would not do: a blocked node gives the slot back). A SIGKILL there must
    // neither leak the slot nor double it: the restart releases it (steady) and takes it again.
    node.logind.addSession({ id: '9', uid: 1000, user: 'alice', tty: '', class: 'user', type: 'wayland', remote: false, state: 'active' });
    await fleet.client.steadyState(OTHER);
    await waitFor('the reboot postponed while holding the slot', () => since(node, mark, 'reboot_postponed').length >= 1);
    const [agentId] = await fleet.holders();
    expect(agentId).toBeDefined();
    expect(agentId).not.toBe(OTHER.id);
    await node.stopAgent('SIGKILL');
    node.logind.sessions.length = 0;
    const restarted = node.records.length;
    await node.startAgent();
    await waitFor('the simulated reboot', async () => (await node.reboots()) === 1);
    await waitFor('the agent to finish the update', () => since(node, restarted, 'update_finalized').length === 1);
    expect(since(node, restarted, 'update_staged').map((r) => [r.release, r.adopted])).toEqual([['20261122.0.0', true]]);
    expect(since(node, restarted, 'stage_started')).toHaveLength(0);
    // The slot is kept across the reboot (released only once the new boot reports steady).
    expect(await fleet.holders()).toEqual([agentId]);
    expect(since(node, mark, 'update_finalizing').map((r) => r.release)).toEqual(['20261122.0.0']);
  });

  it('a restart after finalization (end state) neither stages nor reboots again, and releases the slot', async () => {
    // The simulated reboot already booted v3 in the sysroot; the agent process itself is still the
    // one that finalized (end state). Restart it first, then power-cycle the node like a boot.
    await waitFor('the end state', () => node.records.some((r) => r.event === 'update_applied'));
    for (const step of ['agent', 'boot'] as const) {
      let mark: number;
      if (step === 'agent') {
        await node.stopAgent('SIGTERM');
        mark = node.records.length;
        await node.startAgent();
      } else {
        mark = node.records.length;
        expect(await node.powerCycleIfRebooted()).toBe(true);
      }
      await waitFor(`steady polling after the ${step} restart`, () => since(node, mark, 'no_update').length >= 1);
      expect(since(node, mark, 'steady_reported')).toHaveLength(1);
      expect(since(node, mark, 'stage_started')).toHaveLength(0);
      expect(since(node, mark, 'update_found')).toHaveLength(0);
      expect(await fleet.holders()).toEqual([]);
    }
    expect(await node.bootedVersion()).toBe('20261122.0.0');
    const set = await deployments(node);
    expect(set.booted?.checksum).toBe(v3);
    expect(set.staged).toBeNull();
    expect(set.deployments.map((d) => d.checksum)).toEqual([v3, v1]);
    expect(await node.reboots()).toBe(1);
  });
});
