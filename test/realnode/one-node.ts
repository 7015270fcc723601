// The world most real-node files (test/e2e) build in their beforeAll: the test's release key, the
// bridge network, a signed release repo served on the bridge address, alt-graphd on the same address,
// and one booting node whose agent follows them. Files with more nodes or more servers (fleet,
// health-rollback) build their own; the scenario itself (releases, waits) stays in each file.
import { startTestGraphd } from '../helpers/graphd.js';
import { serveDir, type StaticServer } from '../helpers/ostree-repo.js';
import { fixtureSigningKey } from '../helpers/signing.js';
import type { RealNodeImage } from './image.js';
import { createNetwork, type RealNodeNetwork } from './network.js';
import { createRealNode, type RealNode } from './node.js';
import { createReleaseRepo, type ReleaseRepo } from './releases.js';

/** Options of {@link startOneNode}. */
export interface OneNodeOptions {
  /** Host and machine name. @default "node1" */
  readonly name?: string;
  /** Releases committed before the servers start, as [version, commit timestamp]. */
  readonly releases?: readonly (readonly [string, string])[];
  /** alt-graphd's update policies by stream (`updates/<stream>.json`). */
  readonly policies?: Record<string, unknown>;
  /** The agent's config fragment, given alt-graphd's URL; called right before the node is created. */
  readonly config: (graphdUrl: string) => string;
  /** Unit drop-ins, by unit name. */
  readonly unitDropIns?: Readonly<Record<string, string>>;
}

/** A running one-node world. */
export interface OneNodeWorld {
  readonly network: RealNodeNetwork;
  readonly repo: ReleaseRepo;
  readonly http: StaticServer;
  readonly graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  /** Started (its boot loop runs); not yet waited for. */
  readonly node: RealNode;
  /** Destroys the node, then stops the servers and removes the network. */
  close(): Promise<void>;
}

/** Builds the world and starts the node; on a failure part way, tears down what it built and rethrows. */
export async function startOneNode(image: RealNodeImage, o: OneNodeOptions): Promise<OneNodeWorld> {
  const undo: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  try {
    const key = await fixtureSigningKey();
    const network = await createNetwork();
    undo.push(() => network.destroy());
    const repo = await createReleaseRepo(image, key);
    for (const [version, timestamp] of o.releases ?? []) await repo.release(version, timestamp);
    const http = await serveDir(repo.path, { host: network.hostAddress });
    undo.push(() => http.close());
    const graphd = await startTestGraphd({ repoPath: repo.path, host: network.hostAddress, ...(o.policies === undefined ? {} : { policies: o.policies }) });
    undo.push(() => graphd.close());
    const node = await createRealNode({
      image,
      network,
      index: 1,
      name: o.name ?? 'node1',
      repoUrl: http.url,
      trusted: key,
      configToml: o.config(graphd.url),
      ...(o.unitDropIns === undefined ? {} : { unitDropIns: o.unitDropIns }),
    });
    undo.push(() => node.destroy());
    await node.start();
    return { network, repo, http, graphd, node, close };
  } catch (err: unknown) {
    await close();
    throw err;
  }
}
