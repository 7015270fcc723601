// kill -9 in the middle of a stage on one real node (systemd-nspawn, real systemd; test/realnode/),
// immediate strategy, two releases: first the agent is killed while its stage transaction runs in
// alt-ostreed (systemd's Restart=on-failure brings it back), then alt-ostreed itself, the
// bus-activated backend, is killed in its transaction. To land the kills inside the stage, the
// repo server holds the pull's object requests (serveDir's hold) until the kill is done, so the
// transaction is provably running (the backend's ActiveTransaction) when the signal arrives.
// Each update must still end on the new release with one reboot, and nothing may be lost: the node
// boots the staged deployment, the agent comes back to steady polling, and no second reboot follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/graphd.js';
import type { StaticServer } from '../helpers/ostree-repo.js';
import { realNodeUnavailable } from '../realnode/available.js';
import { type RealNodeImage } from '../realnode/image.js';
import type { RealNode } from '../realnode/node.js';
import { startOneNode, type OneNodeWorld } from '../realnode/one-node.js';
import type { ReleaseRepo } from '../realnode/releases.js';
import { agentConfig, agentEvents, DEBUG_LOG_DROPIN, diagnoseOnFailure, loadImage, probeBoot, secs } from '../realnode/scenario.js';

const [V1, V2] = ['20261115.0.0', '20261122.0.0'];
/** Object fetches of a pull (the summary and config stay answered, so the pull gets that far). */
const OBJECTS = /^\/objects\//;
/** ostree's fetcher gives up on a request without a byte for 30 s: hold well below that. */
const MAX_HOLD_MS = 20_000;
/** Between two `alt-updatectl check` kicks of an agent waiting out its stage retry interval. */
const KICK_EVERY_MS = 15_000;

/**
 * True when the last stage event in `events` is a failure: the agent waits out its retry interval
 * (Zincati's 300 s), not staging. A kick then starts the retry; a kick while it runs would only queue.
 */
function waitingToRetry(events: readonly string[]): boolean {
  const last = [...events].reverse().find((e) => e === 'stage_started' || e === 'stage_failed' || e === 'update_staged');
  return last === 'stage_failed';
}

const unavailable = await realNodeUnavailable();
if (unavailable !== null) console.warn(unavailable);

describe.skipIf(unavailable !== null)('real node: kill -9 of the agent and of alt-ostreed mid-stage', () => {
  let image: RealNodeImage;
  let world: OneNodeWorld | undefined;
  let repo: ReleaseRepo;
  let http: StaticServer | undefined;
  let node: RealNode | undefined;
  let cannotBoot: string | null = null;
  const started = Date.now();

  const exec = (cmd: readonly string[]): Promise<string> => node!.exec(cmd).then((r) => r.stdout);
  const show = async (unit: string, props: readonly string[]): Promise<Record<string, string>> => {
    const out = await exec(['systemctl', 'show', unit, ...props.flatMap((p) => ['-p', p])]);
    return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  };
  /** The agent's event ids of boot `boot` (0: this one, -1: the previous one), in order. */
  const events = (boot = '0'): Promise<string[]> => agentEvents(node!, boot);
  const count = (list: readonly string[], e: string): number => list.filter((x) => x === e).length;
  /** The backend's Sysroot.ActiveTransaction: (method, sender, path); empty strings when idle. */
  const activeTransaction = async (): Promise<string> =>
    (await exec(['busctl', 'get-property', 'org.projectatomic.rpmostree1', '/org/projectatomic/rpmostree1/Sysroot', 'org.projectatomic.rpmostree1.Sysroot', 'ActiveTransaction'])).trim();

  /** Publishes `version` with its objects held, and waits until the node's stage is pulling it. */
  async function stageHeld(version: string, timestamp: string): Promise<void> {
    http!.hold(OBJECTS);
    await repo.release(version, timestamp);
    await waitFor(`the stage of ${version} pulling (a held object request)`, () => http!.held > 0, 180_000);
    expect(await events()).toContain('stage_started');
    expect(await activeTransaction()).not.toMatch(/^\(sss\) "" "" ""$/);
  }

  /** Waits for boot `n` on `version`, then for the agent to settle there without another reboot. */
  async function arrives(n: number, version: string): Promise<void> {
    await node!.waitBooted(n, 240_000);
    expect(await node!.bootedVersion()).toBe(version);
    await waitFor(`three checks on ${version}`, async () => count(await events(), 'no_update') >= 3, 120_000);
    expect(node!.boots.length).toBe(n);
    expect(node!.boots.slice(0, -1).map((b) => b.exitCode)).toEqual(Array<number>(n - 1).fill(133));
    const status = await exec(['ostree', 'admin', 'status']);
    expect(status).toMatch(new RegExp(`^\\* altcos [0-9a-f]+\\.\\d\\n\\s+Version: ${version.replace(/\./g, '\\.')}$`, 'm'));
    expect(status).not.toMatch(/\(staged\)/);
    const agent = await show('alt-updated', ['ActiveState', 'StatusText', 'NRestarts']);
    expect(agent).toMatchObject({ ActiveState: 'active', NRestarts: '0' });
    expect(agent.StatusText).toMatch(/^periodically polling for updates/);
  }

  beforeAll(async () => {
    image = await loadImage();
    cannotBoot = await probeBoot(image);
    if (cannotBoot !== null) return;
    world = await startOneNode(image, {
      name: 'kill1',
      config: (graphdUrl) => agentConfig(graphdUrl, 'immediate'),
      // Debug records: the steady checks (no_update) say when the agent settled on a release.
      unitDropIns: DEBUG_LOG_DROPIN,
    });
    ({ repo, http, node } = world);
    await node.waitBooted(1, 120_000);
    await waitFor('steady polling on the first release', async () => (await events()).includes('no_update'), 120_000);
  }, 600_000);

  diagnoseOnFailure(() => [node]);

  afterAll(async () => {
    http?.release();
    await world?.close();
    const boots = node?.boots.map((b) => `boot ${b.index}: up ${secs(b.startedAt, b.endedAt)} (exit ${b.exitCode ?? '-'})`);
    console.info(`real-node test file: ${secs(started, Date.now())}; ${boots?.join('; ') ?? 'no node'}`);
  }, 60_000);

  it('agent killed while its stage transaction runs: restarted, one reboot into the release', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    await stageHeld(V1, '2026-11-15 00:00:00 +0000');
    const heldSince = Date.now();
    const before = await show('alt-updated', ['MainPID', 'NRestarts']);
    await exec(['kill', '-9', before.MainPID!]);
    // Keep the pull held until the restarted agent (RestartSec=10s) meets the orphaned transaction
    // (the backend answers it "transaction in progress", the agent retries), or until the hold nears
    // ostree's request timeout.
    await waitFor(
      'the restarted agent meeting the running transaction, or the hold limit',
      async () => Date.now() - heldSince > MAX_HOLD_MS || ((await show('alt-updated', ['MainPID'])).MainPID !== before.MainPID && (await events()).includes('ostree_busy_retry')),
      MAX_HOLD_MS + 30_000,
    );
    const transaction = await activeTransaction();
    http!.release();
    console.info(`agent kill: held ${((Date.now() - heldSince) / 1000).toFixed(1)} s; transaction at release: ${transaction}`);
    await arrives(2, V1);
    const prev = await events('-1');
    console.info(`agent kill: the boot's agent events: ${prev.filter((e) => e !== 'no_update' && e !== 'state_changed').join(' ')}`);
    expect(count(prev, 'update_finalizing')).toBe(1);
    expect(count(prev, 'agent_initialized')).toBe(2);
    // The restarted agent adopted what the orphaned transaction staged: one stage, never a second.
    expect(count(prev, 'stage_started')).toBe(1);
    expect(count(prev, 'update_staged')).toBe(1);
    const log = await exec(['journalctl', '--no-pager', '-b', '-1', '-u', 'alt-updated', '-o', 'cat']);
    expect(log).toMatch(/Main process exited, code=killed, status=9\/KILL/);
  }, 480_000);

  it('alt-ostreed killed in its stage transaction: the agent retries, one reboot into the release', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    await stageHeld(V2, '2026-11-22 00:00:00 +0000');
    const backend = await show('alt-ostreed', ['MainPID', 'NRestarts']);
    expect(Number(backend.MainPID)).toBeGreaterThan(0);
    await exec(['kill', '-9', backend.MainPID!]);
    // Its cgroup (the ostree pull) goes with it; the held requests can be answered now.
    await waitFor('the backend process gone', async () => (await show('alt-ostreed', ['MainPID'])).MainPID !== backend.MainPID, 60_000);
    http!.release();
    // After a failed stage the agent waits Zincati's 300 s; an operator's `alt-updatectl check`
    // (D-Bus CheckNow, as root) asks it to try again now.
    /** What each `alt-updatectl check` answered: a failed run on a busy CI machine must say why. */
    const answers: string[] = [];
    let lastKick = 0;
    await waitFor(
      'the reboot into the release',
      async () => {
        if (node!.boots.length >= 3) return true;
        const seen = await events().catch(() => [] as string[]);
        if (waitingToRetry(seen) && Date.now() - lastKick > KICK_EVERY_MS) {
          lastKick = Date.now();
          const r = await node!.exec(['alt-updatectl', 'check'], { check: false, timeoutMs: 60_000 }).then(
            (x) => `exit ${x.code}: ${(x.stdout + x.stderr).trim().slice(0, 300)}`,
            (e: unknown) => String(e).slice(0, 300),
          );
          answers.push(`${((Date.now() - started) / 1000).toFixed(1)} s ${r}`);
        }
        return node!.boots.length >= 3;
      },
      300_000,
    ).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\nkicks: ${answers.join(' | ') || 'none'}\n${await node!.diagnose()}`);
    });
    console.info(`alt-ostreed kill: ${answers.length} alt-updatectl check(s) until the reboot: ${answers.join(' | ')}`);
    await arrives(3, V2);
    const prev = await events('-1');
    console.info(`alt-ostreed kill: the boot's agent events: ${prev.filter((e) => e !== 'no_update' && e !== 'state_changed').join(' ')}`);
    expect(count(prev, 'update_finalizing')).toBe(1);
    // The killed stage failed and the retry staged: two stages, one staged release.
    expect(count(prev, 'stage_failed')).toBe(1);
    expect(count(prev, 'stage_started')).toBe(2);
    expect(count(prev, 'update_staged')).toBe(1);
    const backendLog = await exec(['journalctl', '--no-pager', '-b', '-1', '-u', 'alt-ostreed', '-o', 'cat']);
    expect(backendLog).toMatch(/Main process exited, code=killed, status=9\/KILL/);
    // Above the waits' own bounds where it matters (the reboot's 300 s after the 180 s stage): a hang
    // then fails in that wait, with the agent's events and the units' journal, not as a bare timeout.
  }, 720_000);
});
