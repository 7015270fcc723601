// A throwaway etcd cluster for the simulator's alt-fleetlockd: 1 or 3 members of the machine's etcd
// (Debian's etcd-server, installed by scripts/setup.sh) on loopback ports, data in a temp dir,
// plain HTTP. Started before the run, stopped after it; a member can be killed and restarted (faults). Its clock is the real one: that is fine
// while the simulated lock group has no stale expiry (etcd leases would count real seconds).
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, createWriteStream } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { SimulatorError } from './errors.js';
import { exited, procMemoryMiB } from './server-process.js';

/** A running cluster. */
export interface SimEtcd {
  /** Client URLs, in member order. */
  readonly endpoints: readonly string[];
  /** Member names (`m0`..), in member order. */
  readonly names: readonly string[];
  /** The name of the member that leads now (asked from the members), or null when none answers. */
  leader(): Promise<string | null>;
  /** SIGKILLs member `name` (data dir kept) and waits for it to exit. */
  kill(name: string): Promise<void>;
  /** Starts member `name` again with the same name, ports and data dir; resolves once it is healthy. */
  restart(name: string): Promise<void>;
  /** Pids of member `name`, every start. */
  pids(name: string): readonly number[];
  /** Peak VmHWM of any member process so far (sampled at kill, stop and `sample`), MiB. */
  peakMiB(): number;
  /** Samples every running member's VmHWM. */
  sample(): Promise<void>;
  /** SIGTERMs every member and waits for them to exit. */
  stop(): Promise<void>;
}

/** Picks `n` distinct free loopback ports (bound to port 0, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

async function memberStatus(url: string): Promise<{ member: string; leader: string } | null> {
  try {
    const res = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
    const b = (await res.json()) as { header?: { member_id?: string }; leader?: string };
    return b.header?.member_id === undefined || b.leader === undefined ? null : { member: b.header.member_id, leader: b.leader };
  } catch {
    return null;
  }
}

/** Starts `members` etcd members under `dir`; resolves once every member reports healthy. */
export async function startSimEtcd(dir: string, members: 1 | 3, bin = process.env['ETCD_BIN'] ?? '/usr/bin/etcd'): Promise<SimEtcd> {
  // setpriv would report a missing etcd only as an exit status: check first, for the clear error.
  await access(bin, constants.X_OK).catch((err: unknown) => {
    throw new SimulatorError('SIM_ETCD', `cannot run ${bin} (install etcd-server: bash scripts/setup.sh)`, { cause: err });
  });
  await mkdir(dir, { recursive: true });
  const ports = await freePorts(2 * members);
  const specs = Array.from({ length: members }, (_, i) => ({ name: `m${i}`, client: `http://127.0.0.1:${ports[2 * i]}`, peer: `http://127.0.0.1:${ports[2 * i + 1]}` }));
  const cluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  const children = new Map<string, ChildProcess>();
  const pids = new Map<string, number[]>(specs.map((s) => [s.name, []]));
  let peak = 0;
  const launch = (s: (typeof specs)[number]): Promise<never> => {
    // Short heartbeats: on loopback a leader is elected in well under a second. A restart reuses the
    // data dir, where etcd ignores the --initial-* flags and rejoins as the same member.
    const args = ['--name', s.name, '--data-dir', join(dir, s.name), '--listen-client-urls', s.client, '--advertise-client-urls', s.client];
    args.push('--listen-peer-urls', s.peer, '--initial-advertise-peer-urls', s.peer, '--initial-cluster', cluster);
    args.push('--initial-cluster-state', 'new', '--initial-cluster-token', `alt-simulate-${ports[0]}`, '--heartbeat-interval', '50', '--election-timeout', '500');
    // Under `setpriv --pdeathsig KILL` (util-linux; it execs etcd, so the pid is etcd's): a simulator
    // that dies by any signal, even SIGKILL, takes its members with it. alt-graphd and alt-fleetlockd
    // need no such help: they exit when their IPC channel closes.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.pipe(createWriteStream(join(dir, `${s.name}.log`), { flags: 'a' }));
    children.set(s.name, child);
    if (child.pid !== undefined) pids.get(s.name)!.push(child.pid);
    const failed = new Promise<never>((_, reject) => child.once('error', (err) => reject(new SimulatorError('SIM_ETCD', `cannot run ${bin} (install etcd-server: bash scripts/setup.sh)`, { cause: err }))));
    failed.catch(() => undefined);
    return failed;
  };
  const sample = async (): Promise<void> => {
    for (const c of children.values()) {
      if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
      const m = await procMemoryMiB(c.pid);
      if (m !== null) peak = Math.max(peak, m.hwm);
    }
  };
  const stop = async (): Promise<void> => {
    await sample();
    for (const c of children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all([...children.values()].map(exited));
  };
  const ready = async (which: typeof specs): Promise<void> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const exitedEarly = which.find((s) => children.get(s.name)!.exitCode !== null);
      if (exitedEarly) throw new SimulatorError('SIM_ETCD', `etcd ${exitedEarly.name} exited with ${children.get(exitedEarly.name)!.exitCode} at start (its log: ${dir})`);
      if ((await Promise.all(which.map((s) => healthy(s.client)))).every(Boolean)) return;
      if (Date.now() > deadline) throw new SimulatorError('SIM_ETCD', `etcd did not become healthy within 60 s (its log: ${dir})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const spec = (name: string): (typeof specs)[number] => {
    const s = specs.find((x) => x.name === name);
    if (s === undefined) throw new SimulatorError('SIM_ETCD', `no etcd member ${name}`);
    return s;
  };
  const spawnFailed = specs.map(launch);
  try {
    await Promise.race([ready(specs), ...spawnFailed]);
  } catch (err: unknown) {
    await stop();
    throw err;
  }
  return {
    endpoints: specs.map((s) => s.client),
    names: specs.map((s) => s.name),
    async leader() {
      const st = await Promise.all(specs.map(async (s) => ({ name: s.name, st: await memberStatus(s.client) })));
      const lead = st.find((x) => x.st !== null && x.st.member === x.st.leader);
      return lead?.name ?? null;
    },
    async kill(name) {
      spec(name);
      await sample();
      const c = children.get(name)!;
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await exited(c);
    },
    async restart(name) {
      const s = spec(name);
      await Promise.race([ready([s]), launch(s)]);
    },
    pids: (name) => pids.get(name) ?? [],
    peakMiB: () => peak,
    sample,
    stop,
  };
}
