// Where the real-node demo's releases come from (scripts/demo-nspawn.ts): `--payload ostree`, a
// signed release repo served on the bridge with alt-graphd over it; `--payload oci` (ALT Atomic), a
// real registry with GPG-signed images of the real-node tree, alt-graphd building the `oci` stream
// from it, and nodes booted from the first image (test/realnode/oci.ts). bootc 1.12 stages what the
// hosts' tag points at, so the OCI source publishes as a pipeline following its barrier would: the
// tag `stable` moves to the barrier image, and to the newest once every node has it staged or booted.
import { startTestGraphd } from '../test/helpers/graphd.js';
import { serveDir, type StaticServer } from '../test/helpers/ostree-repo.js';
import { fixtureSigningKey } from '../test/helpers/signing.js';
import type { RealNodeImage } from '../test/realnode/image.js';
import type { RealNodeNetwork } from '../test/realnode/network.js';
import { createRealNode, type RealNode } from '../test/realnode/node.js';
import { createRealOciWorld, REALNODE_OCI_TAG } from '../test/realnode/oci.js';
import { REALNODE_STREAM } from '../test/realnode/product.js';
import { createReleaseRepo } from '../test/realnode/releases.js';
import { releasePolicy, type TimelineEntry } from './demo-lib.js';

/** The demo's releases: [booted first, barrier, newest]. */
export type DemoVersions = readonly [string, string, string];

/** One payload's servers and nodes. */
export interface DemoSource {
  readonly graphUrl: string;
  /** What was started, for the timeline's first line. */
  readonly intro: string;
  /** What {@link publish} does, for the line after the nodes booted. */
  readonly publishing: string;
  /** A node booted from the first release, not yet started. */
  createNode(index: number, configToml: string, unitDropIns: Readonly<Record<string, string>>): Promise<RealNode>;
  /** Publishes the barrier and the newest release (and refreshes the graph). */
  publish(): Promise<void>;
  /** Called at every poll of the demo with what happened so far; a line to print when it did something. */
  poll(nodes: readonly RealNode[], timeline: readonly TimelineEntry[]): Promise<string | null>;
  /** Stops the servers (the nodes are the caller's). */
  close(): Promise<void>;
}

/** `--payload ostree`: the signed release repo and alt-graphd over it. */
export async function ostreeSource(image: RealNodeImage, network: RealNodeNetwork, versions: DemoVersions): Promise<DemoSource> {
  const key = await fixtureSigningKey();
  const repo = await createReleaseRepo(image, key);
  const http: StaticServer = await serveDir(repo.path, { host: network.hostAddress });
  const graphd = await startTestGraphd({ repoPath: repo.path, host: network.hostAddress, policies: { [REALNODE_STREAM]: releasePolicy(versions) } }).catch(async (e: unknown) => {
    await http.close();
    throw e;
  });
  return {
    graphUrl: graphd.url,
    intro: `alt-graphd serving ${repo.path} at ${graphd.url} (every release signed with a test key; the nodes verify it)`,
    publishing: `committing ${versions[1]} (barrier) and ${versions[2]}`,
    createNode: (index, configToml, unitDropIns) => createRealNode({ image, network, index, name: `node${index}`, repoUrl: http.url, trusted: key, configToml, unitDropIns }),
    async publish() {
      await repo.release(versions[1], '2026-11-15 00:00:00 +0000');
      await repo.release(versions[2], '2026-11-22 00:00:00 +0000');
      await graphd.service.refresh();
    },
    poll: () => Promise.resolve(null),
    async close() {
      await graphd.close();
      await http.close();
    },
  };
}

/** `--payload oci`: registry, signed images, alt-graphd over the registry, nodes booted from an image. */
export async function ociSource(image: RealNodeImage, network: RealNodeNetwork, versions: DemoVersions): Promise<DemoSource> {
  const created = ['2026-11-01T00:00:00Z', '2026-11-15T00:00:00Z', '2026-11-22T00:00:00Z'];
  const world = await createRealOciWorld(image, network, { versions: versions.map((v, i) => [v, created[i]!] as const), barriers: [versions[1]] });
  let moved = false;
  return {
    graphUrl: world.graphd.url,
    intro: `registry at ${world.registry.url} (images GPG-signed; the nodes' policy.json requires it); alt-graphd serving its oci stream at ${world.graphd.url}`,
    publishing: `pushing images ${versions[1]} (barrier) and ${versions[2]}, signed; tag ${REALNODE_OCI_TAG} -> ${versions[1]}`,
    createNode: (index, configToml, unitDropIns) => world.createNode({ index, name: `node${index}`, configToml, unitDropIns }),
    async publish() {
      // `stable` last (its signature is the one the nodes check); the graph sees the release tags at
      // the refresh below, when `stable` already points at the barrier.
      await world.push(versions[1]);
      await world.push(versions[2]);
      await world.push(versions[1], REALNODE_OCI_TAG);
      await world.graphd.service.refresh();
    },
    async poll(nodes, timeline) {
      if (moved) return null;
      const past = async (n: RealNode): Promise<boolean> =>
        timeline.some((e) => e.node === n.name && e.event === 'update_staged' && e.release === versions[1]) || ((await n.bootedVersion().catch(() => versions[0])) !== versions[0]);
      if (!(await Promise.all(nodes.map(past))).every(Boolean)) return null;
      moved = true;
      await world.push(versions[2], REALNODE_OCI_TAG);
      return `every node has the barrier ${versions[1]} staged or booted; tag ${REALNODE_OCI_TAG} -> ${versions[2]}`;
    },
    close: () => world.close(),
  };
}
