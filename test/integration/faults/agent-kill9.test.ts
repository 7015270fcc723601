// kill -9 of the real agent at seeded random points of its update cycle (issue #7). One fleet_lock
// node, four releases published one after another; a driver SIGKILLs the agent on a seeded random
// log event (plus a seeded delay) or after a seeded random time, restarts it, and keeps going. After
// every restart and at the end it checks: no second reboot for one update, a fully staged deployment
// is adopted or replaced by the next agent (never lost, never staged again from scratch), no orphan
// staged deployment at the end, and the FleetLock slot released once the node is steady.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../helpers/etcd.js';
import { createPrng } from '../../helpers/faults.js';
import { waitFor } from '../../helpers/graphd.js';
import type { AgentRecord, TestbedNode } from '../../helpers/testbed-node.js';
import { agentAlive, agentToml, checkNow, createNode, createWorld, eventsSince, lockServer, stagedVersion, type LockServer, type World } from './harness.js';

const SEED = Number(process.env['KILL_SEED'] ?? 4242);
const KILL_POINTS = 50;
const VERSIONS = Array.from({ length: 12 }, (_, i) => `202611${String(i + 1).padStart(2, '0')}.0.0`);
// Events after which a kill can still land before the reboot (update_finalized comes after the hook).
const UPDATE_EVENTS = ['update_found', 'stage_started', 'update_staged', 'finalization_denied', 'update_finalizing'];
// Releases are paced so kill points spread over all of them: release k comes after 4 * (k - 1) kills.
const KILLS_PER_RELEASE = 4;
const STEADY_EVENTS = ['agent_initialized', 'steady_reported', 'no_update', 'state_changed'];

describe(`agent SIGKILLed at random points of its update cycle (seed ${SEED})`, () => {
  let world: World;
  let lock: LockServer;
  let dir: string;
  let node: TestbedNode;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    world = await createWorld(VERSIONS[0]!);
    dir = await mkdtemp(join(tmpdir(), 'alt-faults-kill-'));
    const [port] = await freePorts(1);
    lock = await lockServer({ dir, port: port!, config: `[store]\ntype = "embedded"\nstate_dir = "${dir}/state"\n[groups.default]\nslots = 1\n` });
    await lock.start();
    node = await createNode(world, 'kill9', agentToml({ graphUrl: world.graphd.url, strategy: 'fleet_lock', lockUrl: lock.url }));
    await node.start();
  });
  afterAll(async () => {
    await node?.destroy();
    await lock?.stop();
    await world?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`survives ${KILL_POINTS}+ seeded kill points and arrives at the newest release with one reboot per release`, async () => {
    const r = createPrng(SEED);
    const booted: string[] = [VERSIONS[0]!];
    const histogram = new Map<string, number>();
    // The agent's state machine state at each kill (from its last state_changed record).
    const states = new Map<string, number>();
    const violations: string[] = [];
    let released = 1;
    let kills = 0;
    let adoptions = 0;
    let instanceStart = 0;
    // Set when an agent was killed with a fully staged deployment: the next agents must adopt it.
    let mustAdopt: string | null = null;

    const powerCycle = async (): Promise<boolean> => {
      const start = node.records.length;
      if (!(await node.powerCycleIfRebooted())) return false;
      instanceStart = start;
      const v = await node.bootedVersion();
      if (v <= booted[booted.length - 1]!) violations.push(`reboot #${booted.length} booted ${v} again after ${booted.join(' -> ')}`);
      booted.push(v);
      if ((await node.reboots()) !== booted.length - 1) violations.push(`reboot count ${await node.reboots()} != boots ${booted.length - 1}`);
      mustAdopt = null;
      return true;
    };
    // The records of the current agent instance, checked for a lost staged deployment.
    const checkInstance = (recs: AgentRecord[]): void => {
      for (const rec of recs) {
        if (rec.event === 'staged_deployment_lost') violations.push(`staged deployment lost: ${String(rec['release'])}`);
        if (mustAdopt === null) continue;
        if (rec.event === 'update_staged' && rec['adopted'] === true && rec['release'] === mustAdopt) {
          adoptions += 1;
          mustAdopt = null;
        } else if (rec.event === 'update_replaced' || rec.event === 'pending_deployment_removed') {
          mustAdopt = null;
        } else if (rec.event === 'stage_started' && rec['release'] === mustAdopt) {
          violations.push(`staged ${mustAdopt} was staged again from scratch instead of adopted`);
          mustAdopt = null;
        }
      }
    };

    const pending = (): boolean => booted[booted.length - 1] !== VERSIONS[released - 1];
    // While another holder has the only slot the agent waits staged: kills then hit the adoption path.
    let blockedKillsLeft = 0;
    outer: while (kills < KILL_POINTS) {
      if (!pending() && released < VERSIONS.length && kills >= (released - 1) * KILLS_PER_RELEASE) {
        // The node may still hold its slot (killed before its post-reboot report): then no blocker.
        if (r.chance(0.7) && (await lock.protocol('pre-reboot', 'blocker')) === 200) blockedKillsLeft = r.int(1, 4);
        await world.release(VERSIONS[released]!);
        released += 1;
        // Check at once (once this agent serves D-Bus) instead of after the jittered 1..11 s interval.
        const since = instanceStart;
        void waitFor('agent start', () => eventsSince(node, since).some((e) => e.event === 'agent_initialized'), 5000)
          .then(() => checkNow(node))
          .catch(() => undefined);
      }
      // Steady after a reboot: the slot must have been given back.
      if (!pending() && eventsSince(node, instanceStart).some((e) => e.event === 'steady_reported')) {
        const held = (await lock.holders()).filter((h) => h !== 'blocker');
        if (held.length > 0) violations.push(`slot still held by ${held.join(',')} after the steady-state report on ${booted[booted.length - 1]!}`);
      }
      if (blockedKillsLeft === 0 && (await lock.holders()).includes('blocker')) expect(await lock.protocol('steady-state', 'blocker')).toBe(200);
      // Choose the kill point: a log event of this instance (+0..300 ms) or a time after its start.
      const byTime = r.chance(0.2);
      const trigger = byTime ? 'time' : r.pick(pending() ? UPDATE_EVENTS : STEADY_EVENTS);
      const delayMs = byTime ? r.int(0, 1500) : r.int(0, 300);
      const armedAt = Date.now();
      for (;;) {
        // A reboot ends this round without a kill; the next round picks a new kill point.
        if (await powerCycle()) continue outer;
        if (trigger === 'time' || eventsSince(node, instanceStart).some((e) => e.event === trigger)) break;
        // An event that does not come (the cycle went another way) becomes a kill after 4 s.
        if (Date.now() - armedAt > 4000) break;
        await sleep(25);
      }
      await sleep(delayMs);
      if (await powerCycle()) continue;
      await node.stopAgent('SIGKILL');
      kills += 1;
      if (blockedKillsLeft > 0) blockedKillsLeft -= 1;
      histogram.set(trigger, (histogram.get(trigger) ?? 0) + 1);
      const lastMove = eventsSince(node, instanceStart).filter((e) => e.event === 'state_changed').pop();
      const state = lastMove ? String(lastMove['to']) : 'start';
      states.set(state, (states.get(state) ?? 0) + 1);
      if (process.env['KILL_TRACE']) console.log(`kill #${kills} trigger=${trigger} state=${state} pending=${String(pending())} blocked=${blockedKillsLeft}`);
      // Let the dead agent's last log lines drain from its pipe; a reboot the backend was already
      // running finishes by itself, then the node boots.
      await sleep(50);
      checkInstance(eventsSince(node, instanceStart));
      if (await powerCycle()) continue;
      const staged = await stagedVersion(node);
      if (staged !== null) mustAdopt = staged;
      instanceStart = node.records.length;
      await node.startAgent();
    }

    // No more kills: let it converge (CheckNow shortens Zincati's 300 s retry after a failed stage).
    if ((await lock.holders()).includes('blocker')) await lock.protocol('steady-state', 'blocker');
    while (released < VERSIONS.length) {
      await world.release(VERSIONS[released]!);
      released += 1;
    }
    await waitFor(
      'the newest release, steady',
      async () => {
        await powerCycle();
        checkInstance(eventsSince(node, instanceStart));
        const done = booted[booted.length - 1] === VERSIONS[VERSIONS.length - 1] && eventsSince(node, instanceStart).some((e) => e.event === 'no_update');
        if (!done && agentAlive(node)) await checkNow(node).catch(() => undefined);
        return done;
      },
      180_000,
    );
    console.log(`kill -9 seed ${SEED}: ${kills} kill points, by trigger ${JSON.stringify(Object.fromEntries(histogram))}, by state ${JSON.stringify(Object.fromEntries(states))}; ${adoptions} adoptions; boots ${booted.join(' -> ')}`);

    expect(violations).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(KILL_POINTS);
    expect(booted[booted.length - 1]).toBe(VERSIONS[VERSIONS.length - 1]);
    expect(booted.length).toBeGreaterThanOrEqual(3);
    expect(await node.reboots()).toBe(booted.length - 1);
    expect(await stagedVersion(node)).toBeNull();
    expect(await lock.holders()).toEqual([]);
    expect(mustAdopt).toBeNull();
    // 50+ kills, restarts and reboots: minutes on a loaded 2-core machine; it waits for events only.
  }, 900_000);
});
