// Shared fixtures of the agent integration suites: the real alt-fleetlockd process (quick-start
// flags, admin API on), the operator CLI from dist/, and a read of the backend's deployments over
// the node's private bus with the real rpm-ostree client.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { createFleetLockAdminClient, type FleetLockAdminClient } from '../../../src/fleetlock/admin-client.js';
import { createFleetLockClient, type FleetLockClient } from '../../../src/fleetlock/client.js';
import { createOstreeClient } from '../../../src/ostree/client/index.js';
import type { DeploymentSet } from '../../../src/ostree/deployment.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createRepo, serveDir } from '../../helpers/ostree-repo.js';
import { createTestbedNode, type AgentRecord, type TestbedNode } from '../../helpers/testbed-node.js';
import { spawnServer } from '../fleetlock/spawn.js';

const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));
const UPDATECTL = join(DIST, 'src/cli/main.js');

/** The booted ref of every test node. */
export const REF = 'altcos/x86_64/sisyphus';

/** A running alt-fleetlockd with one group `default`. */
export interface TestFleetlockd {
  /** Base URL with a trailing slash. */
  readonly url: string;
  /** Admin API client (token configured). */
  readonly admin: FleetLockAdminClient;
  /** Protocol client, for playing "another node". */
  readonly client: FleetLockClient;
  /** Ids holding a slot of `default` now. */
  holders(): Promise<string[]>;
  /** SIGTERM, wait, remove the state. */
  stop(): Promise<void>;
}

/** Spawns the real alt-fleetlockd with `default=slots` on 127.0.0.1:0 (as scripts/demo.mjs does). */
export async function startFleetlockd(slots: number): Promise<TestFleetlockd> {
  const dir = await mkdtemp(join(tmpdir(), 'alt-fleetlockd-agent-'));
  const tokenFile = join(dir, 'admin-token');
  await writeFile(tokenFile, 'admin-secret\n', { mode: 0o600 });
  const server = await spawnServer(['--listen', '127.0.0.1:0', '--group', `default=${slots}`, '--state-dir', join(dir, 'state'), '--admin-token-file', tokenFile]);
  const url = server.url.endsWith('/') ? server.url : `${server.url}/`;
  const admin = createFleetLockAdminClient({ baseUrl: url, token: 'admin-secret' });
  const client = createFleetLockClient({ baseUrl: url });
  return {
    url,
    admin,
    client,
    holders: async () => (await admin.group('default')).holders.map((h) => h.id),
    async stop() {
      await admin.close();
      await client.close();
      await server.stop('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `alt-updatectl ARGS` from dist/; resolves to exit code and output (never rejects on exit != 0). */
export function updatectl(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [UPDATECTL, ...args], { env: { ...process.env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The agent's operator status (`alt-updatectl status --json` over the node's bus). */
export async function agentStatus(node: TestbedNode): Promise<Record<string, unknown> | null> {
  const r = await updatectl(['status', '--json', '--bus-address', node.bus.address]);
  if (r.code !== 0) return null;
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** The backend's deployments, read with the real rpm-ostree client over the node's bus. */
export async function deployments(node: TestbedNode): Promise<DeploymentSet> {
  const client = createOstreeClient({ clock: systemClock(), logger: memoryLogger(), busAddress: node.bus.address, clientId: 'agent-test' });
  try {
    return await client.status();
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Records of `node` from index `from` on, optionally only those with event `event`. */
export function since(node: TestbedNode, from: number, event?: string): AgentRecord[] {
  return node.records.slice(from).filter((r) => event === undefined || r.event === event);
}

/** Prints every agent record with `DBG=1` (debugging aid; silent otherwise). */
export const debugRecords: { onRecord?: (n: string, r: AgentRecord) => void } = process.env.DBG
  ? { onRecord: (n, r) => console.log(new Date().toISOString().slice(11, 23), n, r.event ?? '-', r.msg) }
  : {};

/** Agent TOML: graph URL, 1 s intervals, the strategy and any extra lines. */
export function agentToml(graphUrl: string, strategy: string, extra: readonly string[] = []): string {
  return [
    '[cincinnati]',
    `base_url = "${graphUrl}"`,
    '[agent.timing]',
    'steady_interval_secs = 1',
    'staged_interval_secs = 1',
    '[updates]',
    `strategy = "${strategy}"`,
    ...extra,
    '',
  ].join('\n');
}

/** Reads the agent's Prometheus text from its metrics socket (write-and-close). */
export function agentMetricsText(node: TestbedNode): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const sock = connect(join(node.root, 'run/alt-updated/public/metrics.promsock'));
    sock.setEncoding('utf8').on('data', (c: string) => (text += c));
    sock.once('error', reject);
    sock.once('close', () => resolve(text));
  });
}

/** The value of one sample (`name{labels}` exactly as exposed), 0 when absent. */
export async function agentMetric(node: TestbedNode, sample: string): Promise<number> {
  const line = (await agentMetricsText(node)).split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

/** A node booted on `booted` with the next release staged, its reboot held back by the strategy. */
export interface HeldBackNode {
  readonly node: TestbedNode;
  readonly graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  /** Checksum of the booted release 20261101.0.0 (20261115.0.0 is the staged one). */
  readonly booted: string;
  /** Stops the node, alt-graphd and the repo server. */
  close(): Promise<void>;
}

/**
 * Starts a node on 20261101.0.0 with 20261115.0.0 in the graph and `periodic` windows three days
 * away, and resolves once the agent has staged the release and the strategy denied its reboot.
 */
export async function startHeldBackNode(): Promise<HeldBackNode> {
  const repo = await createRepo();
  const booted = (await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' })).checksum;
  await repo.commit({ ref: REF, version: '20261115.0.0' });
  const http = await serveDir(repo.path);
  const graphd = await startTestGraphd({ repoPath: repo.path });
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][(new Date().getUTCDay() + 3) % 7]!;
  const window = ['[updates.periodic]', 'time_zone = "UTC"', '[[updates.periodic.window]]', `days = ["${day}"]`, 'start_time = "12:00"', 'length_minutes = 1'];
  const node = await createTestbedNode({ name: 'node1', repoUrl: http.url, ref: REF, commit: booted, ...debugRecords, configToml: agentToml(graphd.url, 'periodic', window) });
  await node.start();
  await waitFor('the staged update held back by the strategy', () => node.records.some((r) => r.event === 'finalization_denied'));
  return {
    node,
    graphd,
    booted,
    async close() {
      await node.destroy();
      await graphd.close();
      await http.close();
    },
  };
}
