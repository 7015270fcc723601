// Test harness: real etcd 3.4 (Debian etcd-server) on 127.0.0.1, one member or a 3-member cluster,
// each in a temporary data directory; stopped and removed by `stop()`. With `tls`, the client URLs
// are https (optionally requiring client certificates); `enableAuth` turns on etcd user auth.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';

/** The etcd binary the tests run. */
export const ETCD_BIN = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

/** One running member. */
export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** SIGKILLs the member and waits for it to exit. */
  kill(): Promise<void>;
}

/** TLS of the client URLs: PEM files. `clientCertAuth` makes etcd require client certificates. */
export interface EtcdTlsOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  readonly clientCertAuth?: boolean;
  /** What the helper itself presents and trusts (health checks, enableAuth): PEM text. */
  readonly client: { readonly ca: string; readonly cert?: string; readonly key?: string };
}

/** A running cluster. */
export interface EtcdCluster {
  /** Client URLs of all members, in member order. */
  readonly endpoints: string[];
  readonly members: EtcdMember[];
  /** Stops every member still running and removes the data directories. */
  stop(): Promise<void>;
}

/** Picks `n` distinct free loopback ports by binding port 0 (then releasing them). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import('node:net').Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitHealthy(url: string, child: ChildProcess, deadlineMs: number, dispatcher: Agent): Promise<void> {
  while (Date.now() < deadlineMs) {
    if (child.exitCode !== null) throw new Error(`etcd at ${url} exited with ${child.exitCode}`);
    try {
      const res = await request(`${url}/health`, { signal: AbortSignal.timeout(1000), dispatcher });
      const body = (await res.body.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${url} did not become healthy`);
}

/**
 * Starts an etcd cluster of `members` (1 or 3) members on loopback ports; `host` moves the client
 * URLs to another local address (the real-node tests' bridge), the peers stay on loopback.
 */
export async function startEtcd(opts: { members?: 1 | 3; tls?: EtcdTlsOptions; host?: string } = {}): Promise<EtcdCluster> {
  const n = opts.members ?? 1;
  const root = await mkdtemp(join(tmpdir(), 'alt-etcd-'));
  const ports = await freePorts(2 * n);
  const specs = Array.from({ length: n }, (_, i) => ({
    name: `m${i}`,
    clientUrl: `${opts.tls ? 'https' : 'http'}://${opts.host ?? '127.0.0.1'}:${ports[2 * i]}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dataDir: join(root, `m${i}`),
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  const children: ChildProcess[] = [];
  const members: EtcdMember[] = specs.map((s) => {
    const child = spawn(
      ETCD_BIN,
      [
        '--name', s.name,
        '--data-dir', s.dataDir,
        '--listen-client-urls', s.clientUrl,
        '--advertise-client-urls', s.clientUrl,
        '--listen-peer-urls', s.peerUrl,
        '--initial-advertise-peer-urls', s.peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `alt-test-${ports[0]}`,
        '--heartbeat-interval', '50',
        '--election-timeout', '500',
        ...(opts.tls
          ? ['--cert-file', opts.tls.certFile, '--key-file', opts.tls.keyFile, '--trusted-ca-file', opts.tls.caFile,
             ...(opts.tls.clientCertAuth ? ['--client-cert-auth'] : [])]
          : []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.pipe(createWriteStream(join(root, `${s.name}.log`)));
    children.push(child);
    return {
      ...s,
      async kill() {
        child.kill('SIGKILL');
        await exited(child);
      },
    };
  });
  const dispatcher = new Agent({ connect: opts.tls ? opts.tls.client : {} });
  const stop = async (): Promise<void> => {
    await dispatcher.close();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map(exited));
    await rm(root, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    await Promise.all(members.map((m, i) => waitHealthy(m.clientUrl, children[i]!, deadline, dispatcher)));
  } catch (err: unknown) {
    await stop();
    throw err;
  }
  return { endpoints: members.map((m) => m.clientUrl), members, stop };
}

/**
 * Turns on etcd authentication through the JSON gateway: a `root` user (password `rootPassword`),
 * and `user` with read-write access to the keys under `prefix` only. `tls` as given to startEtcd.
 */
export async function enableAuth(
  endpoint: string,
  opts: { rootPassword: string; user: string; password: string; prefix: string; tls?: EtcdTlsOptions },
): Promise<void> {
  const dispatcher = new Agent({ connect: opts.tls ? opts.tls.client : {} });
  const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
  const end = Buffer.from(opts.prefix);
  end[end.length - 1]! += 1;
  const call = async (path: string, body: unknown): Promise<void> => {
    const res = await request(`${endpoint}${path}`, { method: 'POST', body: JSON.stringify(body), dispatcher });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`etcd ${path}: HTTP ${res.statusCode}: ${text}`);
  };
  try {
    await call('/v3/auth/user/add', { name: 'root', password: opts.rootPassword });
    await call('/v3/auth/user/grant', { user: 'root', role: 'root' });
    await call('/v3/auth/role/add', { name: 'fleetlock' });
    await call('/v3/auth/role/grant', { name: 'fleetlock', perm: { permType: 'READWRITE', key: b64(opts.prefix), range_end: b64(end) } });
    await call('/v3/auth/user/add', { name: opts.user, password: opts.password });
    await call('/v3/auth/user/grant', { user: opts.user, role: 'fleetlock' });
    await call('/v3/auth/enable', {});
  } finally {
    await dispatcher.close();
  }
}
