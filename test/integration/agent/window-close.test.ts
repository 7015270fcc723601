// coreos/zincati#1014 with real parts: `fleet_lock` + `[[updates.periodic.window]]`. The real agent
// (real clock) takes the FleetLock slot of a real alt-fleetlockd only inside the window; a logged-in
// user (fakeLogindForTest: logind cannot run here) keeps the reboot waiting in the grace period,
// which keeps the slot (a block inhibitor would not: a blocked node never takes one), so the window
// closes while the agent is staged and holds the slot. The agent must give the slot
// back at the close, and never take it again nor reboot outside the window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { agentMetric, agentToml, debugRecords, deployments, REF, since, startFleetlockd, updatectl, type TestFleetlockd } from './support.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const DENIED = 'alt_updated_updates_strategy_can_finalize_responses_total{response="deny"}';

/**
 * A one-minute UTC window that closes 30..90 s from now: long enough to stage and take the slot
 * inside it, short enough for the test. The end minute is inclusive (Zincati), so `length_minutes =
 * 1` from minute M covers M and M+1; it starts one minute back when less than 30 s of M are left.
 */
function windowClosingSoon(nowMs: number): { toml: string[]; closesAtMs: number } {
  const minuteStart = nowMs - (nowMs % 60_000);
  const startMs = new Date(nowMs).getUTCSeconds() < 30 ? minuteStart - 60_000 : minuteStart;
  const start = new Date(startMs);
  const hhmm = `${String(start.getUTCHours()).padStart(2, '0')}:${String(start.getUTCMinutes()).padStart(2, '0')}`;
  return {
    toml: [
      '[updates.periodic]',
      'time_zone = "UTC"',
      '[[updates.periodic.window]]',
      `days = ["${DAYS[start.getUTCDay()]!}"]`,
      `start_time = "${hhmm}"`,
      'length_minutes = 1',
    ],
    closesAtMs: startMs + 2 * 60_000,
  };
}

// No tty, so the agent's warning goes nowhere; a wayland session is interactive all the same.
const USER = { id: '7', uid: 1000, user: 'alice', tty: '', class: 'user', type: 'wayland', remote: false, state: 'active' } as const;

describe('alt-updated maintenance windows: the window closes while an update is staged', () => {
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let fleet: TestFleetlockd;
  let locked: TestbedNode; // fleet_lock + windows
  let periodic: TestbedNode; // periodic, same window
  let v1: string;
  let v2: string;
  let closesAtMs: number;

  beforeAll(async () => {
    repo = await createRepo();
    v1 = (await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' })).checksum;
    http = await serveDir(repo.path);
    fleet = await startFleetlockd(1);
    v2 = (await repo.commit({ ref: REF, version: '20261115.0.0' })).checksum;
    graphd = await startTestGraphd({ repoPath: repo.path });
    const window = windowClosingSoon(Date.now());
    closesAtMs = window.closesAtMs;
    const node = (name: string, strategy: string, extra: string[]): Promise<TestbedNode> =>
      createTestbedNode({ name, repoUrl: http.url, ref: REF, commit: v1, ...debugRecords, configToml: agentToml(graphd.url, strategy, [...extra, ...window.toml]) });
    locked = await node('locked', 'fleet_lock', ['[updates.fleet_lock]', `base_url = "${fleet.url}"`]);
    periodic = await node('periodic', 'periodic', []);
    for (const n of [locked, periodic]) n.logind.addSession({ ...USER });
  });
  afterAll(async () => {
    await locked?.destroy();
    await periodic?.destroy();
    await fleet?.stop();
    await graphd?.close();
    await http?.close();
  });

  it('fleet_lock takes the slot inside the window and gives it back at the close; neither strategy reboots outside the window', async () => {
    await Promise.all([locked.start(), periodic.start()]);
    for (const n of [locked, periodic]) {
      await waitFor(`${n.name}: the reboot postponed for the user`, () => n.records.some((r) => r.event === 'reboot_postponed'));
      expect(n.records.filter((r) => r.event === 'update_staged').map((r) => r.release)).toEqual(['20261115.0.0']);
    }
    const holders = await fleet.holders();
    expect(holders).toHaveLength(1);

    await waitFor('the slot given back at the window close', () => locked.records.some((r) => r.event === 'lock_released'), 150_000);
    // Given back because of the close, not before it.
    expect(Date.now()).toBeGreaterThanOrEqual(closesAtMs);
    expect(locked.records.find((r) => r.event === 'lock_released')).toMatchObject({ reason: 'window_closed' });
    expect(await fleet.holders()).toEqual([]);
    // periodic waits 60 s per tick while the user is logged in; "check now" runs its staged tick at once.
    expect((await updatectl(['check', '--bus-address', periodic.bus.address])).code).toBe(0);
    await waitFor('periodic: the strategy denying after the close', () => periodic.records.some((r) => r.event === 'finalization_denied'));

    // Nothing holds the reboot now but the closed window: several denied ticks, no slot, no reboot.
    for (const n of [locked, periodic]) n.logind.sessions.length = 0;
    await Promise.all(
      [locked, periodic].map(async (n) => {
        const mark = n.records.length;
        const denied = await agentMetric(n, DENIED);
        await waitFor(`${n.name}: three more denied finalization ticks`, async () => (await agentMetric(n, DENIED)) >= denied + 3);
        expect(since(n, mark, 'update_finalizing')).toHaveLength(0);
      }),
    );
    for (const n of [locked, periodic]) {
      expect(await n.reboots()).toBe(0);
      const set = await deployments(n);
      expect(set.staged?.checksum).toBe(v2);
      expect(set.staged?.finalizationLocked).toBe(true);
    }
    expect(await fleet.holders()).toEqual([]);
  }, 240_000);

  it('the operator can still allow the reboot outside the window (update-now): exactly one reboot, slot free afterwards', async () => {
    const r = await updatectl(['update-now', '--bus-address', locked.bus.address]);
    expect(r.code).toBe(0);
    await waitFor('the simulated reboot', async () => (await locked.reboots()) === 1);
    expect(await locked.powerCycleIfRebooted()).toBe(true);
    const mark = locked.records.length;
    await waitFor('steady polling after the reboot', () => since(locked, mark, 'no_update').length >= 1);
    expect(await locked.bootedVersion()).toBe('20261115.0.0');
    expect((await deployments(locked)).deployments.map((d) => d.checksum)).toEqual([v2, v1]);
    expect(await fleet.holders()).toEqual([]);
    expect(await locked.reboots()).toBe(1);
    expect(await periodic.reboots()).toBe(0);
  });

  it('periodic held back by the closed window: restarts (SIGTERM, SIGKILL) adopt the staged deployment and still do not reboot', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await periodic.stopAgent(signal);
      const mark = periodic.records.length;
      await periodic.startAgent();
      await waitFor(`denied again after ${signal}`, () => since(periodic, mark, 'finalization_denied').length >= 1);
      expect(since(periodic, mark, 'update_staged').map((r) => [r.release, r.adopted])).toEqual([['20261115.0.0', true]]);
      expect(since(periodic, mark, 'stage_started')).toHaveLength(0);
      expect(since(periodic, mark, 'update_finalizing')).toHaveLength(0);
    }
    const set = await deployments(periodic);
    expect(set.staged?.checksum).toBe(v2);
    expect(set.deployments).toHaveLength(2);
    expect(await periodic.reboots()).toBe(0);
  });
});
