// One real node (systemd-nspawn, test/realnode/) with the real systemd-logind: a login session on a
// pty (`su -l` under `script`, through nsenter) postpones the reboot and its terminal receives the
// agent's broadcast; a `systemd-inhibit --mode=block --what=shutdown` holds the reboot across ticks
// until it is released. Everything is asserted on journal records (`journalctl -o json` in the node)
// and on what the pty showed; the waits poll those with deadlines. The re-check interval while held
// is `agent.timing.postponement_interval_secs`, 12 s here (a grace period of 2 minutes instead of
// 10); the test ends each hold itself and lets the agent's next re-check notice.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/graphd.js';
import { trackProcess } from '../helpers/scope.js';
import { realNodeUnavailable } from '../realnode/available.js';
import { guestArgv } from '../realnode/exec.js';
import { type RealNodeImage } from '../realnode/image.js';
import type { RealNode } from '../realnode/node.js';
import { startOneNode, type OneNodeWorld } from '../realnode/one-node.js';
import { REALNODE_STREAM } from '../realnode/product.js';
import type { ReleaseRepo } from '../realnode/releases.js';
import { agentConfig, diagnoseOnFailure, eventOf, type JournalRecord, loadImage, logFileSummary, probeBoot, readJournal } from '../realnode/scenario.js';

const [V1, V2] = ['20261115.0.0', '20261122.0.0'];
const USER = 'alice';
const INHIBITOR_UNIT = 'realnode-inhibitor.service';

/** A login shell on a pty inside the node; `output` is everything its terminal showed. */
interface PtySession {
  readonly child: ChildProcess;
  output: string;
}

const at = (r: JournalRecord | undefined): number => Number(r?.__REALTIME_TIMESTAMP ?? NaN);

const unavailable = await realNodeUnavailable();
if (unavailable !== null) console.warn(unavailable);

describe.skipIf(unavailable !== null)('real node: real logind sessions and block inhibitors hold the reboot', () => {
  let image: RealNodeImage;
  let world: OneNodeWorld | undefined;
  let repo: ReleaseRepo;
  let node: RealNode | undefined;
  let pty: PtySession | undefined;
  let cannotBoot: string | null = null;
  const started = Date.now();

  const journal = (args: readonly string[]): Promise<JournalRecord[]> => readJournal(node!, args);
  const agentLog = (boot: string): Promise<JournalRecord[]> => journal(['-b', boot, '-u', 'alt-updated']);
  /** Waits for a record of this boot's `args` journal that `match` accepts; resolves with it. */
  const awaitRecord = async (what: string, args: readonly string[], match: (r: JournalRecord) => boolean, timeoutMs: number): Promise<JournalRecord> => {
    let found: JournalRecord | undefined;
    await waitFor(what, async () => (found = (await journal(['-b', '0', ...args])).find(match)) !== undefined, timeoutMs).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\n${await node!.diagnose()}`);
    });
    return found!;
  };

  /** Opens `su -l USER` on a fresh pty inside the node (script(1) allocates it), through nsenter. */
  const openLoginShell = (): PtySession => {
    const leader = node!.boots.at(-1)?.leader;
    if (leader === null || leader === undefined) throw new Error('the node has no running container');
    const child = spawn('nsenter', guestArgv(leader, ['script', '-qfc', `su -l ${USER}`, '/dev/null']), {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    trackProcess(child);
    const session: PtySession = { child, output: '' };
    child.stdout.setEncoding('utf8').on('data', (d: string) => (session.output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (session.output += d));
    return session;
  };

  beforeAll(async () => {
    image = await loadImage();
    cannotBoot = await probeBoot(image);
    if (cannotBoot !== null) return;
    // No release yet: each test publishes its own once the session or the inhibitor is in place.
    world = await startOneNode(image, {
      policies: { [REALNODE_STREAM]: { stream: REALNODE_STREAM, releases: [] } },
      config: (graphdUrl) => agentConfig(graphdUrl, 'immediate', { timing: ['postponement_interval_secs = 12'] }),
    });
    ({ repo, node } = world);
  }, 600_000);

  diagnoseOnFailure(() => [node]);

  afterAll(async () => {
    await world?.close();
    pty?.child.kill('SIGKILL'); // the host-side shell; the session inside went with the container
    logFileSummary(started, node);
  }, 60_000);

  it('postpones the reboot for a login session on a pty, warns its terminal, and reboots after the logout', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = node!;
    await n.waitBooted(1, 120_000);
    await n.exec(['useradd', '--create-home', '--shell', '/bin/bash', USER]);
    pty = openLoginShell();
    // pam_systemd registered it with logind: a `user`-class `tty` session on the pty.
    const opened = await awaitRecord('logind to open the session', ['-u', 'systemd-logind'], (r) => r.MESSAGE === `New session ${r.SESSION_ID} of user ${USER}.`, 60_000);
    const id = opened.SESSION_ID!;
    const show = (await n.exec(['loginctl', 'show-session', id, '-p', 'Class', '-p', 'Type', '-p', 'TTY'])).stdout;
    expect(show).toMatch(/^Class=user$/m);
    expect(show).toMatch(/^Type=tty$/m);
    const tty = /^TTY=(pts\/\d+)$/m.exec(show)?.[1];
    expect(tty).toBeDefined();

    await repo.release(V1, '2026-11-15 00:00:00 +0000');
    await awaitRecord('the agent to stage the release', ['-u', 'alt-updated'], (r) => eventOf(r) === 'update_staged' && r.MESSAGE.includes(V1), 180_000);
    const postponed = await awaitRecord('the reboot to be postponed for the session', ['-u', 'alt-updated'], (r) => eventOf(r) === 'reboot_postponed', 120_000);
    expect(postponed.MESSAGE).toMatch(/^reboot postponed for 1 interactive session\(s\), 9 postponement\(s\) left /);
    expect((await agentLog('0')).map(eventOf)).toContain('grace_period_started');
    // The terminal got the broadcast on lines of its own (the pty's ONLCR turns the agent's \r\n
    // into \r\r\n), not glued to the prompt nor to what the user types next.
    await waitFor('the warning on the pty', () => pty!.output.includes('auto-update process continue.'), 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}; the pty showed: ${JSON.stringify(pty!.output)}`);
    });
    expect(pty.output).toMatch(
      new RegExp(
        `\\nBroadcast message from alt-updated at \\w{3} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC:\\r+\\n` +
          `New update ${V1.replace(/\./g, '\\.')} is available and has been deployed\\.\\r+\\n` +
          'If permitted by the update strategy, alt-updated will reboot into this update when all interactive users have logged out, or in 2 minutes, whichever comes earlier\\. ' +
          'Please log out of all active sessions in order to let the auto-update process continue\\.\\r+\\n',
      ),
    );
    expect(n.boots).toHaveLength(1);

    // Log out: logind removes the session, and the agent's next re-check (12 s) finalizes.
    pty.child.stdin!.end('exit\n');
    const removed = await awaitRecord('logind to remove the session', ['-u', 'systemd-logind'], (r) => r.MESSAGE === `Removed session ${id}.`, 60_000);
    await n.waitBooted(2, 240_000);
    expect(await n.bootedVersion()).toBe(V1);
    const prev = await agentLog('-1');
    const finalizing = prev.find((r) => eventOf(r) === 'update_finalizing');
    expect(finalizing?.MESSAGE).toContain(V1);
    // It rebooted because the user left, not because the grace period ran out.
    expect(at(finalizing)).toBeGreaterThan(at(removed));
    expect(prev.map(eventOf)).not.toContain('grace_period_over');
    expect(prev.filter((r) => eventOf(r) === 'reboot_postponed').every((r) => at(r) < at(removed))).toBe(true);
  }, 600_000);

  it('holds the reboot while a block inhibitor on shutdown is held, and reboots into the release once it is released', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = node!;
    await n.waitBooted(2, 120_000);
    await n.exec(['systemd-run', `--unit=${INHIBITOR_UNIT}`, 'systemd-inhibit', '--mode=block', '--what=shutdown', '--who=realnode-test', '--why=held by the test', 'sleep', 'infinity']);
    await waitFor('logind to list the inhibitor', async () => (await n.exec(['systemd-inhibit', '--list', '--no-legend'])).stdout.includes('realnode-test'), 60_000);

    await repo.release(V2, '2026-11-22 00:00:00 +0000');
    await awaitRecord('the agent to stage the release', ['-u', 'alt-updated'], (r) => eventOf(r) === 'update_staged' && r.MESSAGE.includes(V2), 180_000);
    const blocked = (r: JournalRecord): boolean => eventOf(r) === 'reboot_blocked';
    const first = await awaitRecord('the reboot to be blocked', ['-u', 'alt-updated'], blocked, 120_000);
    expect(first.MESSAGE).toMatch(/^reboot blocked by 1 shutdown inhibitor\(s\): realnode-test: held by the test \(shutdown\) /);
    // Held across ticks: the next re-check (12 s later) is blocked again, and the node has not rebooted.
    await waitFor('a second blocked re-check', async () => (await agentLog('0')).filter(blocked).length >= 2, 150_000);
    expect(n.boots).toHaveLength(2);
    expect((await agentLog('0')).map(eventOf)).not.toContain('update_finalizing');

    await n.exec(['systemctl', 'stop', INHIBITOR_UNIT]);
    const stopped = await awaitRecord('the inhibitor to be released', ['-u', INHIBITOR_UNIT], (r) => r.UNIT === INHIBITOR_UNIT && r.JOB_TYPE === 'stop' && r.JOB_RESULT === 'done', 60_000);
    await n.waitBooted(3, 240_000);
    expect(await n.bootedVersion()).toBe(V2);
    const prev = await agentLog('-1');
    const finalizing = prev.find((r) => eventOf(r) === 'update_finalizing');
    expect(finalizing?.MESSAGE).toContain(V2);
    expect(at(finalizing)).toBeGreaterThan(at(stopped));
    expect(prev.filter(blocked).every((r) => at(r) < at(stopped))).toBe(true);
  }, 600_000);
});
