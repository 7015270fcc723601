// Boot health verdicts and automatic rollback on real nodes (issue 15; docs/usage/health-checks.md):
// the real alt-updated-health.service, ordered Before=boot-complete.target, runs a release's required
// check at boot, and on red reboots for another attempt, then rolls back through the bus-activated
// alt-ostreed (ostree's set-default of the previous deployment, a rewritten boot loader entry that the
// boot loop boots next) and reboots. Each node boots the base, takes a good release V1 (check green:
// disarmed) and a bad V2 (its check exits 1) with `health.boot_attempts = 2`.
// The second node's V2 also carries a red.d hook that blocks once the record says
// `rollback_requested`, so the test can `kill -9` the health run between recording the rollback and
// calling it.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGraphd } from '../helpers/graphd.js';
import { serveDir, type StaticServer } from '../helpers/ostree-repo.js';
import { fixtureSigningKey } from '../helpers/signing.js';
import { realNodeUnavailable } from '../realnode/available.js';
import { REALNODE_OSNAME, type RealNodeImage } from '../realnode/image.js';
import { createNetwork, type RealNodeNetwork } from '../realnode/network.js';
import { createRealNode, type RealNode } from '../realnode/node.js';
import { REALNODE_STREAM } from '../realnode/product.js';
import { createReleaseRepo, type ReleaseFile } from '../realnode/releases.js';
import { agentConfig, DEBUG_LOG_DROPIN, diagnoseOnFailure, eventOf, loadImage, probeBoot, readJournal, secs } from '../realnode/scenario.js';

const [V1, V2] = ['20261115.0.0', '20261122.0.0'];
const CHECK = 'usr/lib/alt-updated/health.d/required.d/50-app';
const HOOK = 'usr/lib/alt-updated/health.d/red.d/50-hold';
/** While this exists in the node's /var, V2's red.d hook of the kill -9 node blocks at the rollback step. */
const HOLD = '/var/lib/rnhealth/hold';
/** The node's /var as the host sees it (the stateroot's, shared by every deployment and boot). */
const hostVar = (n: RealNode): string => join(n.sysroot, 'ostree/deploy', REALNODE_OSNAME, 'var');
/** The hook creates it when it starts blocking. */
const HELD = '/run/rnhealth-held';
const RECORD = '/var/lib/alt-updated/health.json';

const check = (exit: number): ReleaseFile => ({ content: `#!/bin/sh\necho "app self-test: exit ${exit}"\nexit ${exit}\n`, mode: 0o755 });
// Blocks only at the rollback step (the record says so, written before the hooks run): the red hook
// of the first attempt passes, so that boot reboots for the second attempt as usual.
const holdHook: ReleaseFile = {
  content: [
    '#!/bin/sh',
    `grep -q '"phase": "rollback_requested"' ${RECORD} || exit 0`,
    `[ -e ${HOLD} ] || exit 0`,
    `touch ${HELD}`,
    `while [ -e ${HOLD} ]; do sleep 0.2; done`,
    '',
  ].join('\n'),
  mode: 0o755,
};

/** One node with its own repo, file server and graph. */
interface Setup {
  readonly node: RealNode;
  readonly close: () => Promise<void>;
}

/** Polls `cond` every 500 ms until it holds or `timeoutMs` passes (the journal is read through nsenter: not every 100 ms). */
async function until(what: string, cond: () => Promise<boolean>, timeoutMs: number, diag?: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${diag ? `\n${await diag().catch(String)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The `event=` values of `unit`'s records in boot `boot` (journalctl -b: 0, -1, …), with their messages. */
async function journal(n: RealNode, boot: number, unit: string): Promise<{ event: string; message: string }[]> {
  // MESSAGE is an array of bytes, not a string, on a record that is not valid UTF-8: skipped.
  return (await readJournal(n, ['-b', String(boot), '-u', unit], { check: false }))
    .filter((r) => typeof (r.MESSAGE as unknown) === 'string')
    .map((r) => ({ event: eventOf(r), message: r.MESSAGE }))
    .filter((e) => e.event !== '');
}
/** The parts of health.json the tests read. */
interface Record_ {
  readonly trial: { phase: string; attempts: number; rollbackBootId: string | null } | null;
  readonly manual: string | null;
  readonly failed: { release: string; rolledBack: boolean; reason: string }[];
  readonly last: { verdict: string; release: string | null; reason: string | null; checks: { name: string; result: string }[] } | null;
}
const readRecord = async (n: RealNode): Promise<Record_> => JSON.parse((await n.exec(['cat', RECORD])).stdout) as Record_;
/** `ostree admin status`'s first deployment (the default) and the booted one, as versions. */
async function deploymentVersions(n: RealNode): Promise<{ first: string; booted: string; all: string[] }> {
  const out = (await n.exec(['ostree', 'admin', 'status'])).stdout;
  const entries = [...out.matchAll(/^(\*| ) altcos [0-9a-f]+\.\d+.*\n\s+Version: (\S+)$/gm)].map((m) => ({ booted: m[1] === '*', version: m[2]! }));
  return { first: entries[0]?.version ?? '', booted: entries.find((e) => e.booted)?.version ?? '', all: entries.map((e) => e.version) };
}
const esc = (v: string): string => v.replace(/\./g, '\\.');
const HEALTH = 'alt-updated-health.service';
const AGENT = 'alt-updated.service';

const unavailable = await realNodeUnavailable();
if (unavailable !== null) console.warn(unavailable);

describe.skipIf(unavailable !== null)('real node: a release whose required health check fails is retried, rolled back and never staged again', () => {
  let image: RealNodeImage;
  let network: RealNodeNetwork | undefined;
  let cannotBoot: string | null = null;
  const setups: Setup[] = [];
  const started = Date.now();

  /** Repo with V1 (check green, a barrier) and V2 (check red, `v2Extra` beside it), a graph, and the node booting. */
  const setUp = async (index: number, name: string, v2Extra: Readonly<Record<string, ReleaseFile>>, healthToml: string, beforeStart?: (n: RealNode) => Promise<void>): Promise<Setup> => {
    const key = await fixtureSigningKey();
    const repo = await createReleaseRepo(image, key);
    await repo.release(V1, '2026-11-15 00:00:00 +0000', { [CHECK]: check(0) });
    await repo.release(V2, '2026-11-22 00:00:00 +0000', { [CHECK]: check(1), ...v2Extra });
    const http: StaticServer = await serveDir(repo.path, { host: network!.hostAddress });
    const graphd = await startTestGraphd({
      repoPath: repo.path,
      host: network!.hostAddress,
      policies: { [REALNODE_STREAM]: { stream: REALNODE_STREAM, releases: [{ version: V1, metadata: { barrier: { reason: 'every node passes 20261115' } } }] } },
    });
    const node = await createRealNode({
      image,
      network: network!,
      index,
      name,
      repoUrl: http.url,
      trusted: key,
      configToml: agentConfig(graphd.url, 'immediate', { rest: ['[health]', 'boot_attempts = 2', healthToml] }),
      // no_update is a debug record: the ticks after the rollback are counted by it.
      unitDropIns: DEBUG_LOG_DROPIN,
      // What the package's %post_service (systemctl enable) makes: [Install] RequiredBy=boot-complete.target.
      etcLinks: { [`systemd/system/boot-complete.target.requires/${HEALTH}`]: `/usr/lib/systemd/system/${HEALTH}` },
    });
    await beforeStart?.(node);
    await node.start();
    return {
      node,
      close: async () => {
        await node.destroy();
        await graphd.close();
        await http.close();
      },
    };
  };

  beforeAll(async () => {
    image = await loadImage();
    cannotBoot = await probeBoot(image);
    if (cannotBoot !== null) return;
    network = await createNetwork();
    // Both nodes boot at once; node2's hook holds its rollback step until its test lets it go (the
    // hook's own deadline, check_timeout_secs, is longer than node1's test).
    const hold = async (n: RealNode): Promise<void> => {
      await mkdir(join(hostVar(n), 'lib/rnhealth'), { recursive: true });
      await writeFile(join(hostVar(n), HOLD.replace('/var/', '')), '');
    };
    setups.push(...(await Promise.all([setUp(1, 'node1', {}, 'check_timeout_secs = 30'), setUp(2, 'node2', { [HOOK]: holdHook }, 'check_timeout_secs = 1200', hold)])));
  }, 600_000);

  diagnoseOnFailure(() => setups.map((s) => s.node));

  afterAll(async () => {
    for (const s of setups) await s.close();
    await network?.destroy();
    for (const s of setups) {
      const boots = s.node.boots.map((b) => `boot ${b.index}: up ${secs(b.startedAt, b.endedAt)} (exit ${b.exitCode ?? '-'})`);
      console.info(`${s.node.name}: ${boots.join('; ')}`);
    }
    console.info(`real-node test file: ${secs(started, Date.now())}`);
  }, 120_000);

  it('V1 green and disarmed; V2 red twice, rolled back to V1, which ends healthy; V2 denylisted and never staged again', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = setups[0]!.node;
    const diag = async (): Promise<string> =>
      `${await n.diagnose()}\n${(await n.exec(['journalctl', '--no-pager', '-u', HEALTH, '-o', 'short-monotonic'], { check: false })).stdout}\n${(await n.exec(['cat', RECORD], { check: false })).stdout}`;
    // base → V1 → V2 (attempt 1, red: reboot) → V2 (attempt 2, red: rollback, reboot) → V1.
    await until('the fifth boot', async () => n.boots.length >= 5, 420_000, diag);
    await n.waitBooted(5, 120_000);
    expect(await n.bootedVersion()).toBe(V1);
    await until('the rolled_back verdict', async () => (await journal(n, 0, HEALTH)).some((e) => e.event === 'health_rolled_back'), 120_000, diag);
    // The agent starts after boot-complete.target, so after the verdict: it reads the denylist.
    await until('three agent ticks after the rollback', async () => (await journal(n, 0, AGENT)).filter((e) => e.event === 'no_update' || e.event === 'update_target_ignored').length >= 3, 120_000, diag);
    expect(n.boots.map((b) => b.exitCode)).toEqual([133, 133, 133, 133, null]);

    // Boot 2 (V1): one attempt, green, disarmed.
    const b2 = await journal(n, -3, HEALTH);
    expect(b2.find((e) => e.event === 'health_attempt')?.message).toContain(`release=${V1}`);
    expect(b2.find((e) => e.event === 'health_green')?.message).toContain(`release=${V1}`);
    // Boots 3 and 4 (V2): attempt 1 of 2 reboots for another, attempt 2 of 2 rolls back.
    const b3 = await journal(n, -2, HEALTH);
    const attempt = (es: { event: string; message: string }[]): string[] => es.filter((e) => e.event === 'health_attempt').map((e) => e.message);
    expect(attempt(b3)).toEqual([expect.stringMatching(/\battempt=1\b.*\bmax=2\b/)]);
    expect(attempt(b3)[0]).toContain(`release=${V2}`);
    expect(b3.map((e) => e.event)).toContain('health_reboot_retry');
    expect(b3.map((e) => e.event)).not.toContain('health_rollback_requested');
    const b4 = await journal(n, -1, HEALTH);
    expect(attempt(b4)).toEqual([expect.stringMatching(/\battempt=2\b.*\bmax=2\b/)]);
    expect(b4.filter((e) => e.event === 'health_rollback_requested')).toHaveLength(1);
    expect(b4.map((e) => e.event)).not.toContain('health_reboot_retry');
    // The agent never started updating on a red boot: no stage in boots 3 and 4.
    for (const b of [-2, -1]) expect((await journal(n, b, AGENT)).map((e) => e.event)).not.toContain('update_staged');

    // Boot 5 (V1): rolled back, healthy; V2 denylisted, not offered again.
    const b5 = await journal(n, 0, AGENT);
    expect(b5.find((e) => e.event === 'failed_release_denylisted')?.message).toContain(`version=${V2}`);
    expect(b5.map((e) => e.event)).not.toContain('update_found');
    expect(b5.map((e) => e.event)).not.toContain('update_staged');
    const staged = [];
    for (const b of [-4, -3, -2, -1, 0]) staged.push(...(await journal(n, b, AGENT)).filter((e) => e.event === 'update_staged').map((e) => /release=(\S+)/.exec(e.message)?.[1]));
    expect(staged).toEqual([V1, V2]);

    const status = (await n.exec(['ostree', 'admin', 'status'])).stdout;
    expect(status).toMatch(new RegExp(`\\* altcos [0-9a-f]+\\.\\d+\\n\\s+Version: ${esc(V1)}\\n`));
    expect(status).toMatch(new RegExp(`\\(rollback\\)\\n\\s+Version: ${esc(V2)}\\n`));
    expect(status).not.toMatch(/\(staged\)/);

    const rec = await readRecord(n);
    expect(rec.trial).toBeNull();
    expect(rec.manual).toBeNull();
    expect(rec.failed).toEqual([expect.objectContaining({ release: V2, rolledBack: true, reason: expect.stringContaining('50-app') })]);
    expect(rec.last).toMatchObject({ verdict: 'rolled_back', release: V2 });
    // V1's own check ran and passed on the rolled-back boot.
    expect(rec.last?.checks).toEqual([expect.objectContaining({ name: '50-app', result: 'passed' })]);

    const cli = JSON.parse((await n.exec(['alt-updatectl', 'status', '--json'])).stdout) as { booted_version?: string; health: Record<string, unknown> };
    expect(cli.health).toMatchObject({ last_verdict: 'rolled_back', last_release: V2, trial: null, manual_intervention: null, failed_releases: [{ release: V2, rolled_back: true, reason: expect.any(String) }] });
    const prop = await n.exec(['busctl', 'get-property', 'org.altlinux.Updated1', '/org/altlinux/Updated1', 'org.altlinux.Updated1', 'HealthVerdict']);
    expect(prop.stdout.trim()).toBe('s "rolled_back"');
    const unit = (await n.exec(['systemctl', 'show', HEALTH, '-p', 'ActiveState', '-p', 'Result', '-p', 'StatusText'])).stdout;
    expect(unit).toMatch(/^ActiveState=active$/m);
    expect(unit).toMatch(/^StatusText=GREEN: rolled back to the previous release$/m);
  }, 600_000);

  it('kill -9 of the health run after it recorded the rollback and before calling it: no rollback in that boot, one after a reboot, verdict rolled_back', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = setups[1]!.node;
    const diag = async (): Promise<string> =>
      `${await n.diagnose()}\n${(await n.exec(['journalctl', '--no-pager', '-u', HEALTH, '-o', 'short-monotonic'], { check: false })).stdout}`;
    // Boot 4, V2's second red attempt: the record says rollback_requested and the red hook blocks.
    await until('the red hook holding the rollback step in boot 4', async () => n.boots.length === 4 && (await n.exec(['test', '-e', HELD], { check: false })).code === 0, 420_000, diag);
    const before = await readRecord(n);
    expect(before.trial).toMatchObject({ phase: 'rollback_requested', attempts: 2 });
    expect(before.failed).toEqual([expect.objectContaining({ release: V2, rolledBack: true })]);
    expect(await deploymentVersions(n)).toMatchObject({ first: V2, booted: V2 });
    const pid = (await n.exec(['systemctl', 'show', '-p', 'MainPID', '--value', HEALTH])).stdout.trim();
    expect(Number(pid)).toBeGreaterThan(1);
    await n.exec(['kill', '-9', pid]);
    await until('the health unit failed by the signal', async () => /^Result=signal$/m.test((await n.exec(['systemctl', 'show', HEALTH, '-p', 'Result'])).stdout), 60_000, diag);
    // systemd ended the blocked hook with the unit's cgroup; nothing rolled back, the record kept the step.
    expect(await deploymentVersions(n)).toMatchObject({ first: V2, booted: V2 });
    expect((await readRecord(n)).trial).toMatchObject({ phase: 'rollback_requested', rollbackBootId: before.trial!.rollbackBootId });

    // systemd runs it again in the same boot: the Rollback may still be running in the backend, so
    // it is never called a second time there: manual intervention, still nothing rolled back.
    await rm(join(hostVar(n), HOLD.replace('/var/', '')));
    await n.exec(['systemctl', 'start', HEALTH], { check: false, timeoutMs: 120_000 });
    await until('the same-boot re-run', async () => (await journal(n, 0, HEALTH)).some((e) => e.event === 'health_manual_intervention'), 60_000, diag);
    const rerun = await readRecord(n);
    expect(rerun.manual).toMatch(/a rollback requested in this boot did not complete/);
    expect(rerun.trial).toMatchObject({ phase: 'rollback_requested' });
    expect(await deploymentVersions(n)).toMatchObject({ first: V2, booted: V2 });
    const moves = async (boot: number): Promise<number> => (await journal(n, boot, HEALTH)).filter((e) => e.event === 'transaction_message' && /to be first deployment/.test(e.message)).length;
    expect(await moves(0)).toBe(0);

    // The admin reboots: the next boot resumes the recorded rollback once, and the one after is V1.
    await n.exec(['systemctl', 'reboot'], { check: false });
    await until('the sixth boot', async () => n.boots.length >= 6, 300_000, diag);
    await n.waitBooted(6, 120_000);
    expect(await n.bootedVersion()).toBe(V1);
    await until('the rolled_back verdict', async () => (await journal(n, 0, HEALTH)).some((e) => e.event === 'health_rolled_back'), 120_000, diag);
    await until('the agent up after the verdict', async () => (await journal(n, 0, AGENT)).some((e) => e.event === 'agent_initialized'), 120_000, diag);
    expect(n.boots.map((b) => b.exitCode)).toEqual([133, 133, 133, 133, 133, null]);
    const b5 = await journal(n, -1, HEALTH);
    expect(b5.find((e) => e.event === 'health_rollback_requested')?.message).toMatch(/resuming the requested rollback/);
    // One Rollback call in all: none in the killed boot, one in the resumed one, none after.
    expect([await moves(-2), await moves(-1), await moves(0)]).toEqual([0, 1, 0]);
    const end = await deploymentVersions(n);
    expect(end).toMatchObject({ first: V1, booted: V1 });
    expect(end.all[1]).toBe(V2); // the rollback deployment: a second rollback would have gone back to it
    const rec = await readRecord(n);
    expect(rec).toMatchObject({ trial: null, manual: null, last: { verdict: 'rolled_back', release: V2 } });
    expect(rec.failed).toEqual([expect.objectContaining({ release: V2, rolledBack: true })]);
    const prop = await n.exec(['busctl', 'get-property', 'org.altlinux.Updated1', '/org/altlinux/Updated1', 'org.altlinux.Updated1', 'HealthVerdict']);
    expect(prop.stdout.trim()).toBe('s "rolled_back"');
    expect((await journal(n, 0, AGENT)).find((e) => e.event === 'failed_release_denylisted')?.message).toContain(`version=${V2}`);
  }, 600_000);
});
