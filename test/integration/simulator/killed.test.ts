// A simulator killed mid-run leaves no server behind: SIGKILL (which no handler can catch) of
// `simulate --store etcd` takes its etcd members (setpriv --pdeathsig) and its alt-graphd and
// alt-fleetlockd (their IPC channel closes) with it. Found when a benchmark run was stopped by hand
// and left three etcd members running.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/graphd.js';

const SIMULATE = new URL('../../../scripts/simulate.mjs', import.meta.url).pathname;

/** Pids of processes whose command line mentions `needle`, with their first word. */
function processesMentioning(needle: string): { pid: number; argv0: string }[] {
  const found: { pid: number; argv0: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.includes(needle))) found.push({ pid: Number(entry), argv0: argv[0] ?? '' });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

let work = '';
afterAll(async () => {
  // Every command line "mentions" the empty string: before the test made its dir there is nothing to end.
  if (work === '') return;
  for (const p of processesMentioning(work)) process.kill(p.pid, 'SIGKILL');
  await rm(work, { recursive: true, force: true });
});

describe('a killed simulator', () => {
  it('takes its etcd members, alt-graphd and alt-fleetlockd with it', async () => {
    work = await mkdtemp(join(tmpdir(), 'alt-sim-killed-'));
    // Its temp dir (and so every server's command line) is under `work`.
    const sim = spawn(process.execPath, [SIMULATE, '--nodes', '300', '--slots', '1', '--store', 'etcd', '--json'], { env: { ...process.env, TMPDIR: work }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => sim.once('exit', () => resolve()));
    // Running: three etcd members and both node servers, all started by this simulator.
    let servers: { pid: number; argv0: string }[] = [];
    await waitFor('the simulator\'s three etcd members and two servers', () => {
      servers = processesMentioning(work).filter((p) => p.pid !== sim.pid);
      const etcd = servers.filter((p) => p.argv0.endsWith('etcd'));
      const node = servers.filter((p) => p.argv0 === process.execPath);
      return etcd.length === 3 && node.length === 2;
    }, 120_000);
    sim.kill('SIGKILL');
    await exited;
    const alive = (): string[] => servers.filter((p) => processesMentioning(work).some((q) => q.pid === p.pid)).map((p) => p.argv0);
    await waitFor('the servers to exit', () => alive().length === 0, 20_000).catch(() => undefined);
    expect(alive()).toEqual([]);
  });
});
