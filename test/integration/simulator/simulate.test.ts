// The fleet simulator (issue 16) end to end: 100 simulated nodes, each the agent's real core over a
// SimulatedHost, against the real alt-graphd and alt-fleetlockd executables (built dist/ mains, as
// child processes on the simulation clock; embedded store, or a 3-member etcd cluster), on one
// virtual clock. Checks the invariants the run reports against the timeline, the summary's request
// counts against what the nodes' clients sent and what the servers counted, and a run with all three
// faults (an etcd member, alt-fleetlockd and alt-graphd killed and restarted). Needs `npm run build`.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { parseFault } from '../../../src/simulator/faults.js';
import { seededRandom } from '../../../src/simulator/random.js';
import { builtMain } from '../../../src/simulator/server-process.js';
import { simulate, type SimulationOptions } from '../../../src/simulator/simulate.js';
import { DEFAULT_CALENDAR } from '../../../src/simulator/windows.js';

const base: Omit<SimulationOptions, 'logger'> = {
  nodes: 100,
  slots: 5,
  strategy: 'fleet_lock',
  rolloutMinutes: null,
  rebootSecs: 60,
  stageSecs: 0,
  failRate: 0,
  stepSecs: 60,
  maxVirtualSecs: 7 * 86400,
  seed: 7,
  periodic: DEFAULT_CALENDAR,
};

describe('simulate: 100 nodes, 5 slots, fleet_lock', () => {
  it('every node arrives or rolls back, never more than 5 reboot at once, and the counts are the servers\'', async () => {
    const failRate = 0.05;
    const r = await simulate({ ...base, failRate, logger: memoryLogger() });
    const s = r.summary;
    expect(s.lock_store).toBe('embedded');
    expect(s.violations).toEqual([]);
    expect(s.invariants_ok).toBe(true);
    expect(s.finished).toBe(true);
    // Which nodes fail is fixed by the seed: each node draws once, when it boots the new release.
    const expectedFailures = Array.from({ length: 100 }, (_, i) => seededRandom(base.seed * 104_729 + i)()).filter((x) => x < failRate).length;
    expect(expectedFailures).toBeGreaterThan(0);
    expect(s.rolled_back).toBe(expectedFailures);
    expect(s.arrived).toBe(100 - expectedFailures);

    // The timeline agrees with the invariant: at no step more than 5 down or 5 slots held.
    expect(r.timeline.length).toBeGreaterThan(2);
    expect(r.timeline[0]!.releases).toEqual({ [r.previous]: 100 });
    for (const row of r.timeline) {
      expect(row.rebooting).toBeLessThanOrEqual(5);
      expect(row.lockHolders).not.toBeNull();
      expect(row.lockHolders!).toBeLessThanOrEqual(5);
    }
    const last = r.timeline.at(-1)!;
    expect(last.releases).toEqual({ [r.newest]: 100 - expectedFailures, [r.previous]: expectedFailures });
    expect(last.lockHolders).toBe(0);
    expect(s.max_concurrent_reboots).toBeGreaterThanOrEqual(1);
    expect(s.max_concurrent_reboots).toBeLessThanOrEqual(5);

    // Request counts are what alt-fleetlockd and alt-graphd counted, and match what the clients sent.
    expect(s.lock_requests).toBe(r.client.lockRequests);
    expect(s.graph_requests).toBe(r.client.graphRequests);
    // Every node took a slot at least once (pre-reboot) and gave it back (steady-state) at least once.
    expect(s.lock_requests).toBeGreaterThanOrEqual(200);
    expect(s.graph_requests).toBeGreaterThanOrEqual(100);
    expect(s.lock_latency_ms_p50).not.toBeNull();
    expect(s.lock_latency_ms_p99!).toBeGreaterThanOrEqual(s.lock_latency_ms_p50!);
    // Nothing was down: no failed requests; the servers' peak memory was read from /proc.
    expect([s.graph_errors, s.lock_errors]).toEqual([0, 0]);
    expect(s.faults).toEqual([]);
    expect(s.graph_server_rss_mib).toBeGreaterThan(10);
    expect(s.lock_server_rss_mib!).toBeGreaterThan(10);
    expect(s.etcd_member_rss_mib).toBeNull();
    // Virtual time: at least 20 rounds of 5 one-minute reboots.
    expect(s.duration_virtual_s).toBeGreaterThanOrEqual(20 * 60);
  });

  it('immediate: nothing coordinates the reboots, so more than one node reboots at once', async () => {
    const r = await simulate({ ...base, nodes: 30, strategy: 'immediate', logger: memoryLogger() });
    expect(r.summary.finished).toBe(true);
    expect(r.summary.arrived).toBe(30);
    expect(r.summary.slots).toBeNull();
    expect(r.summary.lock_requests).toBe(0);
    expect(r.summary.max_concurrent_reboots).toBeGreaterThan(1);
    expect(r.summary.graph_requests).toBe(r.client.graphRequests);
  });

  it('a rollout over 120 minutes: the graph offers the release to a growing share, so arrival takes at least that long', async () => {
    const r = await simulate({ ...base, nodes: 30, rolloutMinutes: 120, logger: memoryLogger() });
    expect(r.summary.violations).toEqual([]);
    expect(r.summary.arrived).toBe(30);
    // The last node's wariness lies somewhere in 0..1; with 30 nodes the last sees it past the first hour.
    expect(r.summary.duration_virtual_s).toBeGreaterThan(3600);
    const arrivedAt = (n: number): number => r.timeline.find((row) => (row.releases[r.newest] ?? 0) >= n)!.t;
    expect(arrivedAt(10)).toBeLessThan(arrivedAt(30));
  });
});

describe('simulate: alt-fleetlockd on a 3-member etcd cluster', () => {
  it('the same invariants and counts hold with the slots kept in etcd', async () => {
    const r = await simulate({ ...base, nodes: 30, slots: 3, failRate: 0.1, store: { kind: 'etcd', members: 3 }, logger: memoryLogger() });
    const s = r.summary;
    expect(s.lock_store).toBe('etcd');
    expect(s.violations).toEqual([]);
    expect(s.finished).toBe(true);
    expect(s.arrived + s.rolled_back).toBe(30);
    expect(s.max_concurrent_reboots).toBeLessThanOrEqual(3);
    for (const row of r.timeline) expect(row.lockHolders!).toBeLessThanOrEqual(3);
    expect(r.timeline.at(-1)!.lockHolders).toBe(0);
    expect(s.lock_requests).toBe(r.client.lockRequests);
    expect(s.lock_requests).toBeGreaterThanOrEqual(60);
    expect(s.etcd_member_rss_mib!).toBeGreaterThan(1);
  });
});

const gone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err: unknown) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
};

describe('simulate: faults during the run', () => {
  it('an etcd member, alt-fleetlockd and alt-graphd killed and restarted: the invariants hold and the run says what happened', async () => {
    const faults = ['graphd@4m+10m', 'etcd-member@6m+5m', 'fleetlockd@9m+3m'].map(parseFault);
    const r = await simulate({ ...base, nodes: 40, slots: 3, failRate: 0.1, store: { kind: 'etcd', members: 3 }, faults, logger: memoryLogger() });
    const s = r.summary;
    expect(s.violations).toEqual([]);
    expect(s.finished).toBe(true);
    expect(s.arrived + s.rolled_back).toBe(40);
    expect(s.max_concurrent_reboots).toBeLessThanOrEqual(3);
    for (const row of r.timeline) expect(row.lockHolders!).toBeLessThanOrEqual(3);
    expect(r.timeline.at(-1)!.lockHolders).toBe(0);

    // Each fault happened at its virtual time, was restored after its duration, and was a real kill.
    expect(s.faults.map((f) => [f.kind, f.at_s, f.restored_at_s])).toEqual([
      ['graphd', 240, 840],
      ['etcd-member', 360, 660],
      ['fleetlockd', 540, 720],
    ]);
    for (const f of s.faults) {
      expect(f.pid_before).not.toBeNull();
      expect(f.pid_after).not.toBeNull();
      expect(f.pid_after).not.toBe(f.pid_before);
      expect(gone(f.pid_before!)).toBe(true);
      expect(f.how).toMatch(/^SIGKILL of /);
    }
    expect(s.faults[1]!.member).toMatch(/^m[012]$/);
    // The rollout was still going when alt-graphd went down: nodes polling it failed, and said so.
    expect(r.timeline.find((row) => row.t >= 240)!.releases[r.previous] ?? 0).toBeGreaterThan(0);
    expect(s.graph_errors).toBeGreaterThan(0);
    // The servers count what reached them (banked across restarts); failed requests mostly did not.
    expect(s.graph_requests).toBeLessThanOrEqual(r.client.graphRequests);
    expect(s.graph_requests).toBeGreaterThanOrEqual(r.client.graphRequests - s.graph_errors);
    expect(s.lock_requests).toBeLessThanOrEqual(r.client.lockRequests);
    expect(s.lock_requests).toBeGreaterThanOrEqual(r.client.lockRequests - s.lock_errors);
  });
});

describe('the servers\' simulation clock', () => {
  it('a server on the simulation clock takes its time from the parent, and shuts down when the parent goes away', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alt-simclock-'));
    const child = spawn(process.execPath, [builtMain('fleetlock/server/main.js'), '--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ALT_SIM_CLOCK: 'ipc' },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const virtualNow = Date.UTC(2030, 0, 1);
    child.on('message', (m: { type?: string }) => {
      if (m.type === 'clock-ready') child.send({ type: 'clock', nowMs: virtualNow, monotonicMs: 0 });
    });
    const url = await new Promise<string>((resolve, reject) => {
      const check = (): void => {
        const m = /event=listening url=(\S+)/.exec(out);
        if (m) resolve(m[1]!);
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      void exit.then(() => reject(new Error(`exited before listening:\n${out}`)));
    });
    expect(out).toMatch(/ALT_SIM_CLOCK=ipc: time is set by the parent process/);
    const res = await fetch(new URL('v1/pre-reboot', url), {
      method: 'POST',
      headers: { 'fleet-lock-protocol': 'true', 'content-type': 'application/json' },
      body: JSON.stringify({ client_params: { id: 'node-a', group: 'default' } }),
    });
    expect(res.status).toBe(200);
    // An hour of virtual time later (acknowledged), the slot has been held an hour; the wall clock moved milliseconds.
    const acked = new Promise<unknown>((resolve) => child.on('message', (m: { type?: string }) => m.type === 'clock-ack' && resolve(m)));
    child.send({ type: 'clock', nowMs: virtualNow + 3_600_000, monotonicMs: 3_600_000 });
    expect(await acked).toEqual({ type: 'clock-ack', monotonicMs: 3_600_000 });
    const metrics = await (await fetch(new URL('metrics', url))).text();
    expect(metrics).toMatch(/^alt_fleetlockd_lock_oldest_hold_seconds\{group="default"\} 3600$/m);
    child.disconnect();
    expect(await exit).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });
  it('alt-graphd and alt-fleetlockd refuse ALT_SIM_CLOCK=ipc without an IPC channel, naming it', async () => {
    const runMain = (main: string, args: string[]): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [builtMain(main), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ALT_SIM_CLOCK: 'ipc' } });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.once('exit', (code) => resolve({ code, out }));
      });
    const graphd = await runMain('graph-server/main.js', ['--repo', '/nonexistent', '--updates', '/nonexistent', '--listen', '127.0.0.1:0']);
    expect(graphd.code).toBe(1);
    expect(graphd.out).toMatch(/ALT_SIM_CLOCK=ipc but this process has no IPC channel/);
    const lockd = await runMain('fleetlock/server/main.js', ['--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', '/nonexistent']);
    expect(lockd.code).toBe(2);
    expect(lockd.out).toMatch(/ALT_SIM_CLOCK=ipc but this process has no IPC channel/);
  });
});

describe('simulate: the invariant check', () => {
  it('catches a lock server that grants more slots than planned', async () => {
    const r = await simulate({ ...base, nodes: 30, slots: 2, serverSlots: 6, logger: memoryLogger() });
    expect(r.summary.invariants_ok).toBe(false);
    expect(r.summary.max_concurrent_reboots).toBeGreaterThan(2);
    expect(r.summary.violations.some((v) => /rebooting, more than 2 slots|more than 2 slots/.test(v))).toBe(true);
  });

});
