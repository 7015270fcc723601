// The real-node harness's way into a container (test/realnode/exec.ts guestArgv), on the real kernel:
// a PID namespace whose init does what systemd-shutdown does at a reboot (SIGSTOP every process, then
// SIGTERM and SIGCONT, then exit) while a test's command runs inside it. A command, a shell builtin
// (`kill` of an inside pid) included, must act inside that namespace; and the init must be able to
// exit: with nsenter's own fork the waiting nsenter stopped itself with its stopped child, never
// reaped it, and the init hung in the kernel waiting for that zombie (a node that never rebooted).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/graphd.js';
import { within } from '../helpers/hostile-peer.js';
import { trackProcess } from '../helpers/scope.js';
import { guestArgv, run } from '../realnode/exec.js';
import { readIfExists, statusField } from '../realnode/proc.js';

const root = process.getuid?.() === 0;
const canUnshare = root && (await run('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { check: false }).then((r) => r.code === 0).catch(() => false));

/** The host pid of the process that has pid `inner` in the PID namespace of `init`, or null. */
function hostPidOf(init: number, inner: number): number | null {
  const ns = readlinkSync(`/proc/${init}/ns/pid`);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const ids = statusField(pid, 'NSpid')?.split(/\s+/) ?? [];
    if (ids.length !== 2 || ids[1] !== String(inner)) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/pid`) === ns) return pid;
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** What the namespace's init runs: systemd-shutdown's final steps, each started by a file the test writes. */
const INIT = `
until [ -e "$1/stop" ]; do sleep 0.05; done
kill -STOP -1
: > "$1/stopped"
until [ -e "$1/kill" ]; do sleep 0.05; done
kill -TERM -1
kill -CONT -1
exit 0
`;

describe.skipIf(!canUnshare)('real-node guest commands: a container shutting down while one runs', () => {
  let dir = '';
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('runs commands and builtins inside its PID namespace, and lets the container\'s PID 1 exit', async () => {
    dir = await mkdtemp(join(tmpdir(), 'alt-guest-exec-'));
    const ns = spawn('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', INIT, 'init', dir], { stdio: 'ignore' });
    trackProcess(ns);
    const nsExited = new Promise<void>((resolve) => ns.once('exit', () => resolve()));
    let init = 0;
    await waitFor('the namespace\'s init', () => {
      init = Number(readIfExists(`/proc/${ns.pid}/task/${ns.pid}/children`).trim().split(/\s+/)[0] ?? 0);
      return init > 0 && statusField(init, 'NSpid')?.split(/\s+/)[1] === '1';
    }, 20_000);

    // The command reports its own pid (as seen inside), then stays until the shutdown ends it.
    const guest = spawn('nsenter', guestArgv(init, ['sh', '-c', `echo $$ > ${dir}/guest; exec sleep 600`]), { stdio: 'ignore' });
    trackProcess(guest);
    const guestExited = new Promise<number | null>((resolve) => guest.once('exit', (code) => resolve(code)));
    await waitFor('the command running', () => existsSync(join(dir, 'guest')) && readFileSync(join(dir, 'guest'), 'utf8').endsWith('\n'), 20_000);
    const inner = Number(readFileSync(join(dir, 'guest'), 'utf8'));
    const host = hostPidOf(init, inner);
    expect(host, `pid ${inner} inside the namespace`).not.toBeNull();

    // A shell builtin acts inside too: `kill` of an inside pid reaches that process (run by a shell in
    // the host's PID namespace it would signal whatever has that pid on the host).
    const victim = spawn('nsenter', guestArgv(init, ['sh', '-c', `echo $$ > ${dir}/victim; exec sleep 600`]), { stdio: 'ignore' });
    trackProcess(victim);
    // Its end as the host sees it: the shell's 128 + 15 (nsenter's own fork would die of the signal itself).
    const victimExited = new Promise<string>((resolve) => victim.once('exit', (code, sig) => resolve(code === 143 || sig === 'SIGTERM' ? 'SIGTERM' : `${code} ${sig}`)));
    await waitFor('the second command running', () => existsSync(join(dir, 'victim')) && readFileSync(join(dir, 'victim'), 'utf8').endsWith('\n'), 20_000);
    const killed = await run('nsenter', guestArgv(init, ['kill', '-TERM', readFileSync(join(dir, 'victim'), 'utf8').trim()]), { check: false, timeoutMs: 20_000 });
    expect(killed.code).toBe(0);
    expect(await within(victimExited, 20_000)).toBe('SIGTERM');

    await writeFile(join(dir, 'stop'), '');
    await waitFor('the command stopped by the init', () => existsSync(join(dir, 'stopped')) && statusField(host!, 'State')?.startsWith('T') === true, 20_000);
    await writeFile(join(dir, 'kill'), '');
    // The init exits at once unless something outside keeps its zombie unreaped.
    const outcome = await within(nsExited.then(() => 'exited'), 30_000);
    expect(outcome, `the namespace's init (nsenter side: ${statusField(guest.pid!, 'State') ?? 'gone'})`).toBe('exited');
    // The host side ends with it: the command's SIGTERM, or the SIGKILL of the namespace's end when the
    // init exited first, as 128 + the signal through the shell.
    expect([143, 137]).toContain(await guestExited);
  }, 120_000);
});
