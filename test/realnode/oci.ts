// The OCI path on real nodes (ALT Atomic: bootc hosts booted from signed images). A real registry
// (Debian's docker-registry) and the signatures' lookaside (HTTP) on the bridge's host address, a
// GPG key the nodes' policy.json requires (signedBy, default reject), the real-node tree pushed as
// images (oci-image.ts), alt-graphd building the `oci` stream from the registry, and nodes whose
// first deployment the bootc stand-in installed from the first image: inside, /usr/bin/bootc is
// the stand-in (from the image), alt-ostreed picks its bootc driver, and every pull is skopeo's
// under the node's own /etc/containers. Hosts track the moving tag `stable` (bootc 1.12 stages what
// it points at), so the publisher moves it along (see {@link RealOciWorld.push}).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_VERSION_LABEL } from '../../src/graph-server/oci/config.js';
import { BOOTC_STANDIN } from '../helpers/bootc-host.js';
import { startTestGraphd } from '../helpers/graphd.js';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.js';
import { serveDir, type StaticServer } from '../helpers/ostree-repo.js';
import { createSigningKey, type SigningKey } from '../helpers/signing.js';
import { run } from './exec.js';
import { CACHE_DIR, MUTABLE, REALNODE_OSNAME, type RealNodeImage } from './image.js';
import type { RealNodeNetwork } from './network.js';
import { createRealNode, type RealNode, type RealNodeOptions } from './node.js';
import { buildVersionImage, ensureBaseLayer, linkOrCopy, pushOsImage, STANDIN_CONFIG_IN_NODE, useAndPrune, type Layer, type OciOsImage } from './oci-image.js';
import { REALNODE_STREAM } from './product.js';

/** The repository the images live in. */
export const REALNODE_OCI_REPO = 'alt/atomic';
/** The moving tag the nodes boot from and `bootc upgrade` follows. */
export const REALNODE_OCI_TAG = 'stable';
/** Where the stand-in keeps its state, work and OCI store in a node's sysroot (bootc's is /sysroot/ostree/bootc). */
const STANDIN_DIR = 'ostree/bootc-standin';
/** Bumped whenever the skeleton below changes. */
const SKELETON_RECIPE = 1;

/** A registry, a key, signed images and alt-graphd over them, on the nodes' bridge. */
export interface RealOciWorld {
  readonly registry: TestRegistry;
  /** The key the nodes' policy.json requires. */
  readonly key: SigningKey;
  readonly graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  /** `<registry host>/<repo>`: the image name in the graph's payloads. */
  readonly imageName: string;
  /** Built images by version. */
  readonly images: ReadonlyMap<string, OciOsImage>;
  /**
   * Builds (once) and pushes `version` under `tag` (default: the version, a release tag), signed by
   * `signer` (default: {@link key}; null: unsigned). A simple signature names the tag it was pushed
   * under and the lookaside keeps one per digest: push `stable` last. alt-graphd sees new tags at
   * `graphd.service.refresh()` only.
   */
  push(version: string, tag?: string, signer?: SigningKey | null): Promise<OciOsImage>;
  /** A node booted from `<imageName>:stable`, not yet started; `o` as createRealNode's. */
  createNode(o: Pick<RealNodeOptions, 'index' | 'name' | 'configToml' | 'unitDropIns'>): Promise<RealNode>;
  /** Stops alt-graphd, the lookaside server and the registry, closes the key, removes the files. */
  close(): Promise<void>;
}

/** Options of {@link createRealOciWorld}. */
export interface RealOciWorldOptions {
  /** The releases in graph order, as [version, image creation time]; the first is pushed (and tagged stable) at once. */
  readonly versions: readonly (readonly [string, string])[];
  /** Versions the stream's policy marks as barriers. */
  readonly barriers?: readonly string[];
}

/** policy.json as the nodes have it: signatures by `keyPath` for the registry, everything else rejected. */
export const nodePolicy = (registryHost: string, keyPath: string): string =>
  `${JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { [registryHost]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath }] } } }, null, 2)}\n`;

/** The stand-in's configuration: `root` is the sysroot as the stand-in sees it, `etc` the containers directory. */
function standinConfig(root: string, containers: string, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify(
    {
      sysroot: root,
      stateroot: REALNODE_OSNAME,
      ostreePrefix: [],
      policy: join(containers, 'policy.json'),
      registriesD: join(containers, 'registries.d'),
      registriesConf: join(containers, 'registries.conf'),
      state: join(root, STANDIN_DIR, 'state.json'),
      work: join(root, STANDIN_DIR, 'work'),
      ociStore: join(root, STANDIN_DIR, 'oci'),
      version: '1.12.0',
      ...extra,
    },
    null,
    2,
  )}\n`;
}

/** Runs the stand-in on the host with config file `config`. */
const standin = async (config: string, args: readonly string[]): Promise<string> =>
  (await run(process.execPath, [BOOTC_STANDIN, ...args], { env: { ...MUTABLE, BOOTC_STANDIN_CONFIG: config } })).stdout;

/**
 * An empty sysroot (stateroot, bootloader `none`) whose repo already holds the base layer, imported
 * by the stand-in itself (`standin-seed-layer`), cached per base layer and stand-in: each node copies
 * it, so installing an image moves only the small layer. The base blob is linked in per node.
 */
async function ensureSkeleton(base: Layer): Promise<string> {
  const standinHash = createHash('sha256').update(await readFile(BOOTC_STANDIN)).digest('hex');
  const key = createHash('sha256').update(`${SKELETON_RECIPE}\0${base.digest}\0${standinHash}`).digest('hex').slice(0, 16);
  const dir = join(CACHE_DIR, 'oci-skeletons', key);
  if (existsSync(join(dir, 'ready'))) {
    await useAndPrune(dirname(dir), key);
    return join(dir, 'sysroot');
  }
  await mkdir(join(CACHE_DIR, 'work'), { recursive: true });
  const tmp = await mkdtemp(join(CACHE_DIR, 'work', 'oci-skeleton-'));
  try {
    const sysroot = join(tmp, 'sysroot');
    await mkdir(sysroot);
    await run('ostree', ['admin', 'init-fs', sysroot]);
    await run('ostree', ['admin', 'os-init', REALNODE_OSNAME, `--sysroot=${sysroot}`]);
    await run('ostree', [`--repo=${join(sysroot, 'ostree/repo')}`, 'config', 'set', 'sysroot.bootloader', 'none']);
    const store = join(sysroot, STANDIN_DIR, 'oci');
    await mkdir(join(store, 'blobs/sha256'), { recursive: true });
    await writeFile(join(store, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(store, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
    const blob = join(store, 'blobs/sha256', base.digest.slice(7));
    await linkOrCopy(base.path, blob);
    const config = join(tmp, 'standin.json');
    await writeFile(config, standinConfig(sysroot, join(tmp, 'unused')));
    await standin(config, ['standin-seed-layer', base.digest]);
    await rm(blob);
    await rm(join(sysroot, STANDIN_DIR, 'work'), { recursive: true, force: true });
    await writeFile(join(tmp, 'ready'), `${base.digest}\n`);
    await mkdir(dirname(dir), { recursive: true });
    await rename(tmp, dir).catch(() => undefined);
    await useAndPrune(dirname(dir), key);
    return join(dir, 'sysroot');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Starts the world on `network`'s host address with `o.versions[0]` pushed under its tag and `stable`. */
export async function createRealOciWorld(image: RealNodeImage, network: RealNodeNetwork, o: RealOciWorldOptions): Promise<RealOciWorld> {
  const undo: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const work = await mkdtemp(join(tmpdir(), 'altrn-oci-'));
    undo.push(() => rm(work, { recursive: true, force: true }));
    const { layer: base } = await ensureBaseLayer(image);
    const skeleton = await ensureSkeleton(base);
    const registry = await startRegistry({ host: network.hostAddress });
    undo.push(() => registry.stop());
    const key = await createSigningKey('ALT Atomic images (real nodes)', work);
    undo.push(() => key.close());
    const sigs = join(work, 'sigstore');
    await mkdir(sigs);
    const lookaside: StaticServer = await serveDir(sigs, { host: network.hostAddress });
    undo.push(() => lookaside.close());
    // The lookaside as the nodes read it (HTTP), and where the publisher writes (staging, a file URL).
    const registriesYaml = `docker:\n  ${registry.host}:\n    sigstore: ${lookaside.url.replace(/\/$/, '')}\n`;
    const registriesD = join(work, 'registries.d');
    await mkdir(registriesD);
    await writeFile(join(registriesD, 'alt-atomic.yaml'), registriesYaml.replace(/\n$/, `\n    sigstore-staging: file://${sigs}\n`));
    const imageName = `${registry.host}/${REALNODE_OCI_REPO}`;
    const images = new Map<string, OciOsImage>();
    const push: RealOciWorld['push'] = async (version, tag = version, signer = key) => {
      let img = images.get(version);
      if (img === undefined) {
        const created = o.versions.find(([v]) => v === version)?.[1];
        if (created === undefined) throw new Error(`real-node oci world: unknown version ${version}`);
        img = await buildVersionImage(work, base, image.osRelease, version, created);
        images.set(version, img);
      }
      await pushOsImage(registry, registriesD, REALNODE_OCI_REPO, tag, img, signer, work);
      return img;
    };
    const first = o.versions[0]![0];
    await push(first);
    await push(first, REALNODE_OCI_TAG);
    const policy = { stream: REALNODE_STREAM, releases: (o.barriers ?? []).map((version) => ({ version, metadata: { barrier: { reason: 'every node passes through this image' } } })) };
    const graphd = await startTestGraphd({
      repoPath: null,
      host: network.hostAddress,
      // Rebuilt only on refresh(): a publisher pushes a release tag and then moves `stable` to it, and
      // a node offered the release in between would try to stage what `stable` still names (bootc
      // 1.12 stages the tag) and retry only minutes later.
      pollIntervalSecs: 3600,
      policies: { [REALNODE_STREAM]: policy },
      ociStreams: [{ stream: REALNODE_STREAM, registry: registry.url, repository: REALNODE_OCI_REPO, tagPattern: '[0-9]+(\\.[0-9]+)+', tags: null, image: imageName, versionLabel: DEFAULT_VERSION_LABEL, credentials: null }],
    });
    undo.push(async () => {
      await graphd.close();
      await rm(dirname(graphd.updatesDir), { recursive: true, force: true });
    });

    /** Installs `<imageName>:stable` into a node's copy of the skeleton, and gives it its /etc/containers. */
    const install = async (sysroot: string): Promise<void> => {
      const dir = dirname(sysroot);
      const host = join(dir, 'host-containers'); // the same files, with the key at its host path
      await mkdir(join(host, 'registries.d'), { recursive: true });
      await writeFile(join(host, 'policy.json'), nodePolicy(registry.host, key.publicKeyFile));
      await writeFile(join(host, 'registries.d/alt-atomic.yaml'), registriesYaml);
      const registriesConf = `[[registry]]\nlocation = "${registry.host}"\n# plain HTTP on the test bridge; the signature policy still applies\ninsecure = true\n`;
      await writeFile(join(host, 'registries.conf'), registriesConf);
      await linkOrCopy(base.path, join(sysroot, STANDIN_DIR, 'oci/blobs/sha256', base.digest.slice(7)));
      const config = join(dir, 'standin-host.json');
      await writeFile(config, standinConfig(sysroot, host, { installKargs: ['rw'] }));
      await standin(config, ['standin-install', `${imageName}:${REALNODE_OCI_TAG}`]);
      // The persistent journal must exist before the first boot's flush (as image.ts makes it).
      await mkdir(join(sysroot, 'ostree/deploy', REALNODE_OSNAME, 'var/log/journal'), { recursive: true, mode: 0o2755 });
      const deployRoot = join(sysroot, 'ostree/deploy', REALNODE_OSNAME, 'deploy');
      const [dep] = (await readdir(deployRoot)).filter((d) => d.endsWith('.0'));
      const etc = join(deployRoot, dep!, 'etc');
      await mkdir(join(etc, 'containers/registries.d'), { recursive: true });
      await mkdir(join(etc, 'containers/keys'), { recursive: true });
      await writeFile(join(etc, 'containers/keys/alt-atomic.gpg'), await readFile(key.publicKeyFile));
      await writeFile(join(etc, 'containers/policy.json'), nodePolicy(registry.host, '/etc/containers/keys/alt-atomic.gpg'));
      await writeFile(join(etc, 'containers/registries.d/alt-atomic.yaml'), registriesYaml);
      await writeFile(join(etc, 'containers/registries.conf'), registriesConf);
      await writeFile(join(etc, STANDIN_CONFIG_IN_NODE.replace(/^\/etc\//, '')), standinConfig('/sysroot', '/etc/containers'));
    };

    return {
      registry,
      key,
      graphd,
      imageName,
      images,
      push,
      createNode: (n) => createRealNode({ image, network, ...n, bootFrom: { skeleton, install } }),
      close,
    };
  } catch (err: unknown) {
    await close();
    throw err;
  }
}

/** The stand-in's state file of `node` (which commit came from which image), read from the host. */
export async function standinState(node: RealNode): Promise<{ images: Record<string, { image: string; digest: string; version: string | null }> }> {
  return JSON.parse(await readFile(join(node.sysroot, STANDIN_DIR, 'state.json'), 'utf8')) as { images: Record<string, { image: string; digest: string; version: string | null }> };
}
