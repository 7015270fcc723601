// A throwaway etcd cluster for the simulator's alt-fleetlockd: 1 or 3 members of the machine's etcd
// (Debian's etcd-server, installed by scripts/setup.sh) on loopback ports, data in a temp dir,
// plain HTTP. Started before the run, stopped after it. Its clock is the real one: that is fine
// while the simulated lock group has no stale expiry (etcd leases would count real seconds).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { SimulatorError } from './errors.js';

/** A running cluster. */
export interface SimEtcd {
  /** Client URLs, in member order. */
  readonly endpoints: readonly string[];
  /** SIGTERMs every member and waits for them to exit. */
  stop(): Promise<void>;
}

async function freePorts(n: number): Promise<number[]> {
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

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

/** Starts `members` etcd members under `dir`; resolves once every member reports healthy. */
export async function startSimEtcd(dir: string, members: 1 | 3, bin = process.env['ETCD_BIN'] ?? '/usr/bin/etcd'): Promise<SimEtcd> {
  await mkdir(dir, { recursive: true });
  const ports = await freePorts(2 * members);
  const specs = Array.from({ length: members }, (_, i) => ({ name: `m${i}`, client: `http://127.0.0.1:${ports[2 * i]}`, peer: `http://127.0.0.1:${ports[2 * i + 1]}` }));
  const cluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  const children: ChildProcess[] = [];
  const spawnFailed: Promise<never>[] = [];
  for (const s of specs) {
    // Short heartbeats: on loopback a leader is elected in well under a second.
    const args = ['--name', s.name, '--data-dir', join(dir, s.name), '--listen-client-urls', s.client, '--advertise-client-urls', s.client];
    args.push('--listen-peer-urls', s.peer, '--initial-advertise-peer-urls', s.peer, '--initial-cluster', cluster);
    args.push('--initial-cluster-state', 'new', '--initial-cluster-token', `alt-simulate-${ports[0]}`, '--heartbeat-interval', '50', '--election-timeout', '500');
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.pipe(createWriteStream(join(dir, `${s.name}.log`)));
    spawnFailed.push(new Promise<never>((_, reject) => child.once('error', (err) => reject(new SimulatorError('SIM_ETCD', `cannot run ${bin} (install etcd-server: bash scripts/setup.sh)`, { cause: err })))));
    children.push(child);
  }
  const stop = async (): Promise<void> => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map(exited));
  };
  const ready = (async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const exitedEarly = children.find((c) => c.exitCode !== null);
      if (exitedEarly) throw new SimulatorError('SIM_ETCD', `etcd exited with ${exitedEarly.exitCode} at start (its log: ${dir})`);
      if ((await Promise.all(specs.map((s) => healthy(s.client)))).every(Boolean)) return;
      if (Date.now() > deadline) throw new SimulatorError('SIM_ETCD', `etcd did not become healthy within 60 s (its log: ${dir})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  // The race's losers may still reject later (a member dying after start): handled, not fatal.
  for (const p of [ready, ...spawnFailed]) p.catch(() => undefined);
  try {
    await Promise.race([ready, ...spawnFailed]);
  } catch (err: unknown) {
    await stop();
    throw err;
  }
  return { endpoints: specs.map((s) => s.client), stop };
}
