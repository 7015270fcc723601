// The real nodes' network: a host bridge with one address (where alt-graphd, the repo server,
// alt-fleetlockd and etcd listen) and, per node, a network namespace joined to it by a veth pair.
// The node's systemd has no network manager: the addresses are set from outside, before it boots.
import { randomInt } from 'node:crypto';
import { run } from './exec.js';

/** A node's attachment: its namespace (for `--network-namespace-path`) and its address. */
export interface NodeLink {
  readonly netns: string;
  readonly netnsPath: string;
  readonly address: string;
}

/** The bridge and the nodes on it. */
export interface RealNodeNetwork {
  /** The host's address on the bridge (servers listen here). */
  readonly hostAddress: string;
  /** Creates a namespace for node number `index` (1..200), with a veth into the bridge. */
  attach(index: number): Promise<NodeLink>;
  /** Deletes every namespace and link made here (safe to call twice). */
  destroy(): Promise<void>;
}

const ip = (args: readonly string[]): Promise<unknown> => run('ip', args);

/**
 * Names carry the owning process's pid, so a later run can tell which ones a killed run left, and a
 * generation: one test worker runs several files, each with its own network, and a namespace outlives
 * `ip netns del` (and keeps its veth) while a dying container still has a process in it. Without the
 * generation the next file's veth collided with that one ("RTNETLINK answers: File exists").
 */
const BRIDGE = /^rnb([0-9a-z]+)g[0-9a-z]+$/;
const VETH = /^rnv([0-9a-z]+)g[0-9a-z]+n\d+$/;
const NETNS = /^altrn-([0-9a-z]+)-[0-9a-z]+-\d+$/;
/** The pid and generation in base 36: a link name has at most 15 bytes (rnv + 5 + g + 2 + n + 3). */
const base36 = (n: number): string => n.toString(36);
/** Networks made by this process so far (the generation in their names). */
let generation = 0;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The names of the host's network links (`ip -o link`, without a veth's `@peer`). */
export async function linkNames(): Promise<string[]> {
  return (await run('ip', ['-o', 'link'])).stdout.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '').filter(Boolean);
}

/** Deletes the bridges, veths and namespaces of processes that no longer run (a killed test run). */
async function sweepStale(): Promise<void> {
  const links = await linkNames();
  for (const name of (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    const pid = NETNS.exec(name)?.[1];
    if (pid !== undefined && !alive(parseInt(pid, 36))) await run('ip', ['netns', 'del', name], { check: false });
  }
  for (const name of links) {
    const pid = (BRIDGE.exec(name) ?? VETH.exec(name))?.[1];
    if (pid !== undefined && !alive(parseInt(pid, 36))) await run('ip', ['link', 'del', name], { check: false });
  }
}

/** Creates a bridge with 10.213.<subnet>.1/24, on a subnet no host address uses yet. */
export async function createNetwork(): Promise<RealNodeNetwork> {
  await sweepStale();
  const used = (await run('ip', ['-o', '-4', 'addr'])).stdout;
  let subnet = randomInt(1, 250);
  while (used.includes(`10.213.${subnet}.`)) subnet = randomInt(1, 250);
  generation += 1;
  const owner = base36(process.pid);
  const gen = base36(generation);
  const bridge = `rnb${owner}g${gen}`;
  const hostAddress = `10.213.${subnet}.1`;
  const namespaces: string[] = [];
  const veths: string[] = [];
  await ip(['link', 'add', 'name', bridge, 'type', 'bridge']);
  await ip(['addr', 'add', `${hostAddress}/24`, 'dev', bridge]);
  await ip(['link', 'set', bridge, 'up']);
  return {
    hostAddress,
    async attach(index) {
      const netns = `altrn-${owner}-${gen}-${index}`;
      const host = `rnv${owner}g${gen}n${index}`;
      await ip(['netns', 'add', netns]);
      namespaces.push(netns);
      await ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      veths.push(host);
      await ip(['link', 'set', host, 'master', bridge]);
      await ip(['link', 'set', host, 'up']);
      const address = `10.213.${subnet}.${index + 1}`;
      await ip(['-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      await ip(['-n', netns, 'link', 'set', 'eth0', 'up']);
      await ip(['-n', netns, 'link', 'set', 'lo', 'up']);
      return { netns, netnsPath: `/run/netns/${netns}`, address };
    },
    async destroy() {
      // The host ends first: a namespace with a process still in it survives `netns del`, veth and all.
      for (const veth of veths.splice(0)) await run('ip', ['link', 'del', veth], { check: false });
      for (const ns of namespaces.splice(0)) await run('ip', ['netns', 'del', ns], { check: false });
      await run('ip', ['link', 'del', bridge], { check: false });
    },
  };
}
