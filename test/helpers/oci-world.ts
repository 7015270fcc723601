// Test fixture: everything an image (bootc) node updates from, for the agent end-to-end test, the
// fleet test and the demo's `--payload oci`: a real registry (docker-registry), a GPG key the hosts'
// policy.json trusts, a lookaside signature store, signed OS images pushed under their version tags,
// and the real alt-graphd building the `oci` stream from the registry (barriers from the same
// `updates/<stream>.json` policy as ostree streams). Hosts boot from the moving tag `stable`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_VERSION_LABEL } from '../../src/graph-server/oci/config.js';
import { buildOsImage, createBootcHost, createSignatureStore, pushImage, type BootcHostOptions, type BootcTestHost, type OsImage, type SignatureStore } from './bootc-host.js';
import { startTestGraphd } from './graphd.js';
import { startRegistry, type TestRegistry } from './oci-registry.js';
import { createSigningKey, type SigningKey } from './signing.js';
import type { TestbedNode } from './testbed-node.js';

/** The repository the images live in. */
export const OCI_REPO = 'alt/atomic';
/** The graph stream (the agent's `identity.stream`: an image host has no ref to derive it from). */
export const OCI_STREAM = 'stable';
/** The moving tag hosts boot from (bootc 1.12 stages what it points at). */
export const OCI_TAG = 'stable';

/** A registry, signed images and alt-graphd over them. */
export interface OciWorld {
  readonly registry: TestRegistry;
  readonly key: SigningKey;
  readonly store: SignatureStore;
  readonly graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  /** Built images by version. */
  readonly images: ReadonlyMap<string, OsImage>;
  /** `<registry host>/<repo>`: the image name in the graph's payloads. */
  readonly imageName: string;
  /** Builds (once) and pushes `version` signed under `tag` (default: the version itself, a release tag). */
  push(version: string, tag?: string): Promise<OsImage>;
  /** A bootc host installed from `<imageName>:<tag>` (default {@link OCI_TAG}); `opts` as createBootcHost's. */
  host(tag?: string, opts?: Pick<BootcHostOptions, 'version' | 'switchDownloadOnly'>): Promise<BootcTestHost>;
  /** Stops alt-graphd and the registry, closes the key, removes the files. */
  close(): Promise<void>;
}

/** Version `20260101.0` style, with a creation date ordering the releases. */
const created = (i: number): string => `2026-${String(i + 1).padStart(2, '0')}-01T00:00:00Z`;

/**
 * Starts the world with `versions[0]` pushed under its version tag and {@link OCI_TAG} (what hosts
 * boot first). `barriers` are versions the stream's policy marks as barriers. Versions are ordered by
 * their position in `versions` (the image's creation date), which is the graph's order.
 */
export async function createOciWorld(o: { versions: readonly string[]; barriers?: readonly string[] }): Promise<OciWorld> {
  const work = await mkdtemp(join(tmpdir(), 'alt-oci-world-'));
  const [registry, key] = await Promise.all([startRegistry(), createSigningKey('ALT Atomic images')]);
  const store = await createSignatureStore(work);
  const images = new Map<string, OsImage>();
  const imageName = `${registry.host}/${OCI_REPO}`;
  const push = async (version: string, tag = version): Promise<OsImage> => {
    let image = images.get(version);
    if (image === undefined) {
      const i = o.versions.indexOf(version);
      if (i < 0) throw new Error(`oci world: unknown version ${version}`);
      image = await buildOsImage(work, version, created(i));
      images.set(version, image);
    }
    await pushImage(registry, store, OCI_REPO, tag, image, key);
    return image;
  };
  // Before alt-graphd starts, so its first build finds the repository.
  await push(o.versions[0]!);
  await push(o.versions[0]!, OCI_TAG);
  const policy = { stream: OCI_STREAM, metadata: {}, releases: (o.barriers ?? []).map((version) => ({ version, metadata: { barrier: { reason: 'every host passes through this release' } } })) };
  const graphd = await startTestGraphd({
    repoPath: null,
    policies: { [OCI_STREAM]: policy },
    ociStreams: [{ stream: OCI_STREAM, registry: registry.url, repository: OCI_REPO, tagPattern: '[0-9]+\\.[0-9]+', tags: null, image: imageName, versionLabel: DEFAULT_VERSION_LABEL, credentials: null }],
  });
  const world: OciWorld = {
    registry,
    key,
    store,
    graphd,
    images,
    imageName,
    push,
    host: (tag = OCI_TAG, hostOpts = {}) => createBootcHost({ registry, store, image: `${imageName}:${tag}`, trusted: key, ...hostOpts }),
    async close() {
      await graphd.close();
      // startTestGraphd's own directory (policies, cache): the demo runs outside a test scope.
      await rm(dirname(graphd.updatesDir), { recursive: true, force: true });
      await registry.stop();
      await key.close();
      await rm(work, { recursive: true, force: true });
    },
  };
  return world;
}

/**
 * A release pipeline that follows its barrier, as bootc 1.12 needs (it stages what the hosts' tag
 * points at): returns a poll that moves {@link OCI_TAG} from `barrier` to `newest` once every node
 * has the barrier staged (downloaded and locked; finalizing it needs no registry) or booted
 * something other than `first`. Earlier, a node still on `first` could not stage the barrier;
 * later, a node that booted it would retry the newest only after the agent's 5-minute stage retry.
 * The poll resolves true when it moved the tag (once).
 */
export function tagFollowsBarrier(world: OciWorld, nodes: readonly TestbedNode[], v: { first: string; barrier: string; newest: string }): () => Promise<boolean> {
  let moved = false;
  const past = async (n: TestbedNode): Promise<boolean> =>
    n.records.some((r) => r.event === 'update_staged' && r.release === v.barrier) || (await n.bootedVersion()) !== v.first;
  return async () => {
    if (moved || !(await Promise.all(nodes.map(past))).every(Boolean)) return false;
    moved = true;
    await world.push(v.newest, OCI_TAG);
    return true;
  };
}
