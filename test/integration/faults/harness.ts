// Shared set-up of the fault suites: a real repo with releases, its HTTP server, the real alt-graphd,
// nodes (test/helpers/testbed-node.ts) and small probes on them (events, D-Bus CheckNow, staged
// deployment, alt-fleetlockd holders).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectUpdated1 } from '../../../src/agent/operator/dbus-client.js';
import { startTestGraphd } from '../../helpers/graphd.js';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { createTestbedNode, type AgentRecord, type TestbedNode } from '../../helpers/testbed-node.js';
import { spawnServer, type Spawned } from '../fleetlock/spawn.js';

/** The ref every fault node follows. */
export const REF = 'altcos/x86_64/sisyphus';

/** A repo with releases, served over HTTP, and alt-graphd on it. */
export interface World {
  readonly repo: FixtureRepo;
  readonly http: StaticServer;
  graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  /** Commits the next release `version` and makes alt-graphd see it. */
  release(version: string): Promise<string>;
  close(): Promise<void>;
}

/** Creates a repo whose first release is `first`, serves it, starts alt-graphd. */
export async function createWorld(first: string): Promise<World> {
  const repo = await createRepo();
  await repo.commit({ ref: REF, version: first, timestamp: '2026-11-01 00:00:00' });
  const http = await serveDir(repo.path);
  const graphd = await startTestGraphd({ repoPath: repo.path });
  const world: World = {
    repo,
    http,
    graphd,
    async release(version) {
      const c = await repo.commit({ ref: REF, version });
      await world.graphd.service.refresh();
      return c.checksum;
    },
    async close() {
      await world.graphd.close();
      await http.close();
    },
  };
  return world;
}

/** Agent TOML for the fault suites: 1 s intervals (unless `steadySecs`), the given graph URL and strategy. */
export function agentToml(o: { graphUrl: string; strategy?: 'immediate' | 'fleet_lock'; lockUrl?: string; steadySecs?: number; stagedSecs?: number }): string {
  return [
    '[cincinnati]',
    `base_url = "${o.graphUrl}"`,
    '[agent.timing]',
    `steady_interval_secs = ${o.steadySecs ?? 1}`,
    `staged_interval_secs = ${o.stagedSecs ?? 1}`,
    '[updates]',
    `strategy = "${o.strategy ?? 'immediate'}"`,
    ...(o.lockUrl ? ['[updates.fleet_lock]', `base_url = "${o.lockUrl}"`] : []),
    '',
  ].join('\n');
}

/** Creates a node booted from the repo's current head of REF. */
export function createNode(world: World, name: string, configToml: string, onRecord?: (node: string, rec: AgentRecord) => void): Promise<TestbedNode> {
  const debug = process.env['DBG'] ? (n: string, r: AgentRecord): void => console.log(Date.now() % 1_000_000, n, r.event, r.msg) : undefined;
  return createTestbedNode({
    name,
    repoUrl: world.http.url,
    ref: REF,
    configToml,
    onRecord: (n, r) => {
      debug?.(n, r);
      onRecord?.(n, r);
    },
  });
}

/** Records with an `event`, from index `from` on. */
export function eventsSince(node: TestbedNode, from = 0): AgentRecord[] {
  return node.records.slice(from).filter((r) => typeof r.event === 'string');
}

/** Names of the events since `from`. */
export function eventNames(node: TestbedNode, from = 0): string[] {
  return eventsSince(node, from).map((r) => r.event!);
}

/** True while the node's agent process has not exited. */
export function agentAlive(node: TestbedNode): boolean {
  const a = node.agent();
  return a !== null && a.exitCode === null && a.signalCode === null;
}

/** Asks the agent over its D-Bus interface to check now; resolves when that tick is done. */
export async function checkNow(node: TestbedNode): Promise<void> {
  const client = connectUpdated1({ busAddress: node.bus.address });
  try {
    await client.checkNow();
  } finally {
    client.close();
  }
}

/** The agent's state machine state, read over D-Bus. */
export async function agentState(node: TestbedNode): Promise<string> {
  const client = connectUpdated1({ busAddress: node.bus.address });
  try {
    return (await client.snapshot()).state;
  } finally {
    client.close();
  }
}

/** The staged deployment's version per `ostree admin status` inside the fake boot, or null. */
export async function stagedVersion(node: TestbedNode): Promise<string | null> {
  const { stdout } = await node.sysroot.exec(['ostree', 'admin', 'status']);
  const lines = stdout.split('\n');
  const i = lines.findIndex((l) => l.includes('(staged)'));
  if (i < 0) return null;
  return /Version:\s*(\S+)/.exec(lines[i + 1] ?? '')?.[1] ?? '?';
}

/** alt-fleetlockd spawned from dist with an admin token, restartable on the same port and store. */
export interface LockServer {
  url: string;
  readonly stateDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Holder ids of group `default` (admin API). */
  holders(): Promise<string[]>;
  /** Takes (`pre-reboot`) or gives back (`steady-state`) a slot of group `default` for `id`; the HTTP status. */
  protocol(api: 'pre-reboot' | 'steady-state', id: string): Promise<number>;
}

/** Prepares alt-fleetlockd with `config` (TOML, without `listen`/`admin_token`) on a fixed port. */
export async function lockServer(o: { dir: string; port: number; config: string }): Promise<LockServer> {
  const file = join(o.dir, 'fleetlockd.toml');
  await writeFile(file, `listen = "127.0.0.1:${o.port}"\nadmin_token = "admin"\n${o.config}`);
  let running: Spawned | null = null;
  const server: LockServer = {
    url: `http://127.0.0.1:${o.port}/`,
    stateDir: o.dir,
    async start() {
      // Never leave an earlier instance behind (it would outlive the suite).
      await running?.stop('SIGKILL');
      running = await spawnServer(['--config', file, '--log-format', 'journal']);
    },
    async stop() {
      await running?.stop('SIGKILL');
      running = null;
    },
    async holders() {
      const res = await fetch(`${server.url}admin/v1/groups/default`, { headers: { authorization: 'Bearer admin' } });
      const body = (await res.json()) as { holders?: { id: string }[] };
      return (body.holders ?? []).map((h) => h.id);
    },
    async protocol(api, id) {
      const res = await fetch(`${server.url}v1/${api}`, {
        method: 'POST',
        headers: { 'fleet-lock-protocol': 'true', 'content-type': 'application/json' },
        body: JSON.stringify({ client_params: { id, group: 'default' } }),
      });
      await res.arrayBuffer();
      return res.status;
    },
  };
  return server;
}
