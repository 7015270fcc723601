// The real-node image as OCI images (ALT Atomic's shape: bootc hosts booted from signed images): one
// large base layer, the real-node image tree (Debian rootfs + product, image.ts) as a deterministic
// tar (sorted, mtime 0, numeric owners, `gzip -n`), built once per tree and cached beside the other
// layers; and per version one small layer with that release's overlay (os-release, the version
// marker, as releases.ts commits it) and the bootc stand-in at /usr/bin/bootc. Pushing a second
// version moves only its small layer: skopeo finds the base blob in the registry already.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { BOOTC_STANDIN } from '../helpers/bootc-host.js';
import type { TestRegistry } from '../helpers/oci-registry.js';
import type { SigningKey } from '../helpers/signing.js';
import { run } from './exec.js';
import { CACHE_DIR, type RealNodeImage } from './image.js';
import { writeReleaseOverlay } from './product.js';

const execFileP = promisify(execFile);

/** Bumped whenever the base layer's recipe changes, so cached layers of the old recipe are not reused. */
const LAYER_RECIPE = 1;
/** Where the stand-in lives in the image, and the wrapper that runs it as `bootc`. */
export const STANDIN_IN_IMAGE = '/usr/libexec/bootc-standin';
/** The stand-in's configuration inside a node (written per node: the registry's address varies). */
export const STANDIN_CONFIG_IN_NODE = '/etc/bootc-standin.json';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** One gzip layer on disk. */
export interface Layer {
  /** The `.tar.gz` file. */
  readonly path: string;
  /** sha256 of the gzip file (the blob digest). */
  readonly digest: string;
  /** sha256 of the uncompressed tar (the config's diff_id). */
  readonly diffId: string;
  readonly size: number;
}

/** A built OS image: its layers, config and manifest. */
export interface OciOsImage {
  readonly version: string;
  readonly layers: readonly Layer[];
  readonly config: Buffer;
  readonly manifest: Buffer;
  /** The manifest digest: what the graph's payload and bootc's imageDigest name. */
  readonly digest: string;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Tars `tree` deterministically into `<out>.tar.gz`; returns the layer. `owners` keeps the tree's uids (the base layer). */
async function tarLayer(tree: string, out: string, owners: 'keep' | 'root'): Promise<Layer> {
  const own = owners === 'root' ? ['--owner=0', '--group=0'] : [];
  await run('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', ...own, '-C', tree, '-cf', `${out}.tar`, '.']);
  const diffId = (await run('sha256sum', [`${out}.tar`])).stdout.split(' ')[0]!;
  await run('gzip', ['-n', '-f', `${out}.tar`]);
  const path = `${out}.tar.gz`;
  const digest = (await run('sha256sum', [path])).stdout.split(' ')[0]!;
  return { path, digest: `sha256:${digest}`, diffId: `sha256:${diffId}`, size: (await stat(path)).size };
}

/** Cached entries another run used within this long are kept (it may be using them now), as image.ts does. */
const PRUNE_UNUSED_FOR_MS = 2 * 3600 * 1000;

/**
 * Marks `keep` (a directory below `parent`) used now, and removes its siblings no run used for
 * {@link PRUNE_UNUSED_FOR_MS}: the cache is keyed by the image tree, which changes with the product,
 * and each entry holds hundreds of megabytes.
 */
export async function useAndPrune(parent: string, keep: string): Promise<void> {
  const now = new Date();
  await utimes(join(parent, keep), now, now);
  for (const name of await readdir(parent)) {
    if (name === keep) continue;
    const used = await stat(join(parent, name)).then((st) => st.mtimeMs, () => Date.now());
    if (Date.now() - used >= PRUNE_UNUSED_FOR_MS) await rm(join(parent, name), { recursive: true, force: true });
  }
}

/**
 * The base layer of `image`'s tree, from the cache (`<cache>/oci/<tree>-<recipe>/`) or built now
 * (checkout of the tree commit, tar, gzip: about a minute, once). Resolves with the layer and
 * whether it was built.
 */
export async function ensureBaseLayer(image: RealNodeImage): Promise<{ layer: Layer; built: boolean }> {
  const dir = join(CACHE_DIR, 'oci', `${image.treeCommit.slice(0, 16)}-${LAYER_RECIPE}`);
  const meta = join(dir, 'layer.json');
  if (existsSync(meta)) {
    await useAndPrune(dirname(dir), basename(dir));
    return { layer: JSON.parse(await readFile(meta, 'utf8')) as Layer, built: false };
  }
  await mkdir(join(CACHE_DIR, 'work'), { recursive: true });
  const tmp = await mkdtemp(join(CACHE_DIR, 'work', 'oci-layer-'));
  try {
    // As root, the checkout keeps the tree's owners and modes (setuid bits too): the layer carries them.
    await run('ostree', [`--repo=${image.repo}`, 'checkout', image.treeCommit, join(tmp, 'tree')]);
    const built = await tarLayer(join(tmp, 'tree'), join(tmp, 'base'), 'keep');
    await rm(join(tmp, 'tree'), { recursive: true, force: true });
    const layer: Layer = { ...built, path: join(dir, 'base.tar.gz') };
    await writeFile(join(tmp, 'layer.json'), `${JSON.stringify(layer, null, 2)}\n`);
    await mkdir(join(CACHE_DIR, 'oci'), { recursive: true });
    // Another run may have built it meanwhile: its copy is as good.
    await rename(tmp, dir).catch(() => undefined);
    await useAndPrune(dirname(dir), basename(dir));
    return { layer: JSON.parse(await readFile(meta, 'utf8')) as Layer, built: true };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The content of the stand-in's wrapper at /usr/bin/bootc. */
export const BOOTC_WRAPPER = [
  '#!/bin/sh',
  '# STAND-IN for bootc (not bootc): the real-node tests install test/stand-ins/bootc here, which does',
  '# the real work with skopeo (under /etc/containers/policy.json) and ostree. See that file.',
  `BOOTC_STANDIN_CONFIG=\${BOOTC_STANDIN_CONFIG:-${STANDIN_CONFIG_IN_NODE}} exec /usr/bin/node ${STANDIN_IN_IMAGE} "$@"`,
  '',
].join('\n');

/**
 * Builds the image of `version` over `base` in `work`: its own small layer (the release overlay and
 * the bootc stand-in), a config with the version label and `created`, and the manifest.
 */
export async function buildVersionImage(work: string, base: Layer, osRelease: string, version: string, created: string): Promise<OciOsImage> {
  const dir = await mkdtemp(join(work, `image-${version}-`));
  const tree = join(dir, 'tree');
  await mkdir(tree, { mode: 0o755 });
  await chmod(tree, 0o755); // the layer's top directory becomes the tree's /
  await writeReleaseOverlay(tree, osRelease, version);
  await mkdir(join(tree, 'usr/bin'), { recursive: true });
  await mkdir(join(tree, 'usr/libexec'), { recursive: true });
  await writeFile(join(tree, 'usr/bin/bootc'), BOOTC_WRAPPER, { mode: 0o755 });
  await copyFile(BOOTC_STANDIN, join(tree, STANDIN_IN_IMAGE.slice(1)));
  await chmod(join(tree, STANDIN_IN_IMAGE.slice(1)), 0o755);
  const own = await tarLayer(tree, join(dir, 'version'), 'root');
  await rm(tree, { recursive: true, force: true });
  const layers = [base, own];
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created,
      config: { Labels: { 'org.opencontainers.image.version': version } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: OCI_LAYER, digest: l.digest, size: l.size })),
    }),
  );
  return { version, layers, config, manifest, digest: sha(manifest) };
}

/** Links `from` to `to`, or copies it where a link cannot be made (another filesystem). */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  await link(from, to).catch(async () => copyFile(from, to));
}

/**
 * Pushes `image` as `<repo>:<tag>` with skopeo from an OCI layout, signed by `signer` (GPG simple
 * signing into the lookaside staging of `registriesD`) or unsigned (null). The publisher's side: the
 * push itself runs under --insecure-policy, the nodes' policy is what checks.
 */
export async function pushOsImage(reg: TestRegistry, registriesD: string, repo: string, tag: string, image: OciOsImage, signer: SigningKey | null, work: string): Promise<void> {
  const dir = await mkdtemp(join(work, 'push-'));
  try {
    const blobs = join(dir, 'oci/blobs/sha256');
    await mkdir(blobs, { recursive: true });
    for (const l of image.layers) await linkOrCopy(l.path, join(blobs, l.digest.slice(7)));
    await writeFile(join(blobs, sha(image.config).slice(7)), image.config);
    await writeFile(join(blobs, image.digest.slice(7)), image.manifest);
    await writeFile(join(dir, 'oci/oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const entry = { mediaType: OCI_MANIFEST, digest: image.digest, size: image.manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } };
    await writeFile(join(dir, 'oci/index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
    const sign = signer ? ['--sign-by', signer.keyId] : [];
    await execFileP(
      'skopeo',
      ['--insecure-policy', '--registries.d', registriesD, 'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', ...sign, `oci:${join(dir, 'oci')}:${tag}`, `docker://${reg.host}/${repo}:${tag}`],
      { env: { ...process.env, ...(signer ? { GNUPGHOME: signer.homedir } : {}), REGISTRY_AUTH_FILE: join(dir, 'auth.json') } },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
