// The installed units' semantics on one real node (systemd-nspawn, real systemd PID 1; test/realnode/):
// alt-updated.service is Type=notify and becomes active only once the agent, running as its own
// User=, said READY; Restart=on-failure brings it back after a SIGKILL; the bus-activated
// alt-ostreed.service's sandbox lets ostree stage; ConditionPathExists=/run/ostree-booted skips the
// agent on a host not booted from ostree; and the agent starts only after boot-complete.target.
// The periodic strategy with a window days away keeps the staged release staged (no reboot).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/graphd.js';
import { realNodeUnavailable } from '../realnode/available.js';
import { type RealNodeImage } from '../realnode/image.js';
import type { RealNode } from '../realnode/node.js';
import { startOneNode, type OneNodeWorld } from '../realnode/one-node.js';
import type { ReleaseRepo } from '../realnode/releases.js';
import { agentConfig, agentEvents as readAgentEvents, diagnoseOnFailure, loadImage, probeBoot } from '../realnode/scenario.js';

const V1 = '20261115.0.0';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
/** A one-minute weekly window three days from now (UTC): closed for the whole test. */
const closedWindowDay = DAYS[(new Date().getUTCDay() + 3) % 7]!;

const unavailable = await realNodeUnavailable();
if (unavailable !== null) console.warn(unavailable);

describe.skipIf(unavailable !== null)('real node: alt-updated.service and alt-ostreed.service unit semantics', () => {
  let image: RealNodeImage;
  let world: OneNodeWorld | undefined;
  let repo: ReleaseRepo;
  let node: RealNode | undefined;
  let cannotBoot: string | null = null;
  const started = Date.now();

  /** `systemctl show UNIT -p ...` as a record. */
  const show = async (unit: string, props: readonly string[]): Promise<Record<string, string>> => {
    const { stdout } = await node!.exec(['systemctl', 'show', unit, ...props.flatMap((p) => ['-p', p])]);
    return Object.fromEntries(stdout.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  };
  /** The real (first) uid of a process in the node. */
  const uidOf = async (pid: string): Promise<string> => /^Uid:\s+(\d+)/m.exec((await node!.exec(['cat', `/proc/${pid}/status`])).stdout)?.[1] ?? '?';
  const agentEvents = (): Promise<string[]> => readAgentEvents(node!);
  const waitActive = (what: string, cond: (s: Record<string, string>) => boolean): Promise<void> =>
    waitFor(what, async () => cond(await show('alt-updated', ['ActiveState', 'SubState', 'MainPID', 'NRestarts'])), 90_000);

  beforeAll(async () => {
    image = await loadImage();
    cannotBoot = await probeBoot(image);
    if (cannotBoot !== null) return;
    // Only the first release for now: the staging test publishes V1, so the restarts before it
    // never land in a stage (kill-mid-stage.test.ts does that on purpose).
    world = await startOneNode(image, {
      name: 'units1',
      config: (graphdUrl) =>
        agentConfig(graphdUrl, 'periodic', {
          rest: ['[updates.periodic]', 'time_zone = "UTC"', '[[updates.periodic.window]]', `days = [ "${closedWindowDay}" ]`, 'start_time = "00:00"', 'length_minutes = 1'],
        }),
    });
    ({ repo, node } = world);
    await node.waitBooted(1, 120_000);
  }, 600_000);

  diagnoseOnFailure(() => [node]);

  afterAll(async () => {
    await world?.close();
    console.info(`real-node test file: ${((Date.now() - started) / 1000).toFixed(1)} s; boots: ${node?.boots.map((b) => b.exitCode ?? 'running').join(', ') ?? 'none'}`);
  }, 60_000);

  it('starts after boot-complete.target was reached', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    await waitActive('the agent active', (s) => s.ActiveState === 'active');
    const agent = await show('alt-updated', ['After', 'Wants', 'ExecMainStartTimestampMonotonic']);
    expect(agent.After!.split(' ')).toContain('boot-complete.target');
    expect(agent.Wants!.split(' ')).toContain('boot-complete.target');
    const target = await show('boot-complete.target', ['ActiveState', 'ActiveEnterTimestampMonotonic']);
    expect(target.ActiveState).toBe('active');
    // Both are CLOCK_MONOTONIC as PID 1 recorded them: the agent's process began after the target.
    expect(Number(target.ActiveEnterTimestampMonotonic)).toBeGreaterThan(0);
    expect(Number(agent.ExecMainStartTimestampMonotonic)).toBeGreaterThanOrEqual(Number(target.ActiveEnterTimestampMonotonic));
  });

  it('is Type=notify under its own User=: active with a MainPID owned by alt-updated, not root', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const s = await show('alt-updated', ['Type', 'User', 'NotifyAccess', 'ActiveState', 'SubState', 'MainPID', 'StatusText']);
    expect(s).toMatchObject({ Type: 'notify', User: 'alt-updated', NotifyAccess: 'all', ActiveState: 'active', SubState: 'running' });
    expect(Number(s.MainPID)).toBeGreaterThan(0);
    const uid = (await node!.exec(['id', '-u', 'alt-updated'])).stdout.trim();
    expect(uid).not.toBe('0');
    expect(await uidOf(s.MainPID!)).toBe(uid);
    // The READY=1 message carries the first STATUS=; later ones say what the agent does.
    expect(s.StatusText).not.toBe('');
  });

  it('stays activating until READY: the agent stopped before it is ready keeps the unit from going active', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    // Catch the new process before READY (node needs a moment to load and read the configuration),
    // freeze it, and look: a Type=simple or exec unit would be active as soon as it ran. A try that
    // finds the unit active already (READY won the race) restarts and tries again.
    let caught: Record<string, string> | null = null;
    let attempt = 0;
    for (; attempt < 8 && caught === null; attempt++) {
      await node!.exec(['systemctl', 'restart', '--no-block', 'alt-updated']);
      const deadline = Date.now() + 30_000;
      while (caught === null && Date.now() < deadline) {
        const s = await show('alt-updated', ['ActiveState', 'SubState', 'MainPID', 'Id']);
        if (s.ActiveState === 'active') break;
        if (s.ActiveState !== 'activating' || s.MainPID === '0') continue;
        // Past systemd's own pre-exec fork (comm "(...)", still setting up the sandbox): the agent runs.
        const comm = await node!.exec(['cat', `/proc/${s.MainPID}/comm`], { check: false });
        if (comm.code !== 0 || comm.stdout.startsWith('(')) continue;
        if ((await node!.exec(['kill', '-STOP', s.MainPID!], { check: false })).code !== 0) continue;
        const frozen = await show('alt-updated', ['ActiveState', 'SubState', 'MainPID', 'ExecMainStartTimestampMonotonic']);
        if (frozen.ActiveState === 'activating' && frozen.MainPID === s.MainPID) caught = frozen;
        else await node!.exec(['kill', '-CONT', s.MainPID!], { check: false });
      }
      await waitActive('the agent active again', (s) => s.ActiveState === 'active' || s.ActiveState === 'activating');
    }
    console.info(`readiness: the agent frozen before READY on restart ${attempt}`);
    expect(caught, 'the unit caught in activating with a running agent').not.toBeNull();
    expect(caught!.SubState).toBe('start');
    expect(Number(caught!.ExecMainStartTimestampMonotonic)).toBeGreaterThan(0);
    expect(await uidOf(caught!.MainPID!)).toBe((await node!.exec(['id', '-u', 'alt-updated'])).stdout.trim());
    await node!.exec(['kill', '-CONT', caught!.MainPID!]);
    await waitActive('the agent active after it continued', (s) => s.ActiveState === 'active' && s.MainPID === caught!.MainPID);
  }, 480_000);

  it('is restarted by Restart=on-failure after kill -9 of its MainPID', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const before = await show('alt-updated', ['MainPID', 'NRestarts', 'ActiveState']);
    expect(before.ActiveState).toBe('active');
    await node!.exec(['kill', '-9', before.MainPID!]);
    // RestartSec=10s, then a fresh READY.
    await waitActive('a new agent process, active', (s) => s.ActiveState === 'active' && s.MainPID !== '0' && s.MainPID !== before.MainPID);
    const after = await show('alt-updated', ['MainPID', 'NRestarts', 'Result', 'ExecMainStatus']);
    expect(Number(after.NRestarts)).toBe(Number(before.NRestarts) + 1);
    const uid = (await node!.exec(['id', '-u', 'alt-updated'])).stdout.trim();
    expect(await uidOf(after.MainPID!)).toBe(uid);
    const { stdout } = await node!.exec(['journalctl', '--no-pager', '-b', '0', '-u', 'alt-updated', '-o', 'cat']);
    expect(stdout).toMatch(/Main process exited, code=killed, status=9\/KILL/);
    expect(stdout).toMatch(/Scheduled restart job, restart counter is at \d+/);
  }, 180_000);

  it("lets the bus-activated backend stage a release inside its sandbox", async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    await repo.release(V1, '2026-11-15 00:00:00 +0000');
    await waitFor('the release staged', async () => (await agentEvents()).includes('update_staged'), 180_000);
    const status = (await node!.exec(['ostree', 'admin', 'status'])).stdout;
    // The staged deployment first, then the booted one.
    expect(status).toMatch(/^ {2}altcos [0-9a-f]+\.\d \(staged\)\n\s+Version: 20261115\.0\.0$/m);
    expect(status).toMatch(/^\* altcos [0-9a-f]+\.\d\n\s+Version: 20261101\.0\.0$/m);
    // The installed sandbox is in force (a drop-in or a stripped unit would not prove anything).
    const backend = await show('alt-ostreed', ['ActiveState', 'Type', 'NRestarts', 'ProtectHome', 'PrivateTmp', 'NoNewPrivileges', 'ProtectControlGroups']);
    expect(backend).toMatchObject({ ActiveState: 'active', Type: 'dbus', NRestarts: '0', ProtectHome: 'yes', PrivateTmp: 'yes', NoNewPrivileges: 'yes', ProtectControlGroups: 'yes' });
    // No reboot: the window is days away.
    expect(node!.boots.length).toBe(1);
    expect(await agentEvents()).not.toContain('stage_failed');
  }, 240_000);

  it('is skipped by ConditionPathExists=/run/ostree-booted on a host not booted from ostree', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = node!;
    // The boot wrapper bind-mounts the marker read-only: unmount it, then remove what is beneath.
    await n.exec(['umount', '/run/ostree-booted']);
    await n.exec(['rm', '-f', '/run/ostree-booted']);
    try {
      await n.exec(['systemctl', 'restart', 'alt-updated']);
      const s = await show('alt-updated', ['ActiveState', 'SubState', 'ConditionResult', 'MainPID', 'Result']);
      expect(s).toMatchObject({ ActiveState: 'inactive', SubState: 'dead', ConditionResult: 'no', MainPID: '0' });
      const { stdout } = await n.exec(['journalctl', '--no-pager', '-b', '0', '-u', 'alt-updated', '-o', 'cat']);
      expect(stdout).toMatch(/unmet condition check \(ConditionPathExists=\/run\/ostree-booted\)/);
    } finally {
      await n.exec(['touch', '/run/ostree-booted']);
    }
    await n.exec(['systemctl', 'start', 'alt-updated']);
    await waitActive('the agent active with the marker back', (s) => s.ActiveState === 'active');
    expect((await show('alt-updated', ['ConditionResult'])).ConditionResult).toBe('yes');
  }, 180_000);
});
