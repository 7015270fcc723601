// The real-node image, built once and cached under a directory every test shares: a Debian rootfs
// commit (rootfs.ts, debootstrap once), the product layer on top (product.ts, made again whenever the
// installed tree changes), the first release committed from both, and a sysroot with that release
// deployed. A node copies the sysroot (node.ts); a test's releases are small commits over the same
// tree (releases.ts). The cache is keyed by its inputs, so a changed input rebuilds only its layer.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';
import { treeHash, writeProductLayer, writeReleaseOverlay } from './product.js';
import { ensureRootfsCommit } from './rootfs.js';

/** The shared cache directory (`ALT_REALNODE_CACHE` overrides it). */
export const CACHE_DIR = process.env.ALT_REALNODE_CACHE ?? '/var/tmp/alt-updated-realnode';
/** The ref the nodes follow; alt-graphd's ref prefix is `altcos`. */
export const REALNODE_REF = 'altcos/x86_64/sisyphus';
/** The stateroot and the remote of the node's sysroot. */
export const REALNODE_OSNAME = 'altcos';
/** Version of the release every node boots first. */
export const BASE_VERSION = '20261101.0.0';
/** Its commit time: fixed, so the release's checksum depends on its content only. */
const BASE_TIMESTAMP = '2026-11-01 00:00:00 +0000';

/** Bumped whenever the steps below change what an image holds, so older cached images are not reused. */
const IMAGE_RECIPE = 3;

/** Environment for ostree admin on the host: deployment roots stay mutable, so copies can be removed. */
export const MUTABLE = { ...process.env, OSTREE_SYSROOT_DEBUG: 'mutable-deployments' };

/** A built image. */
export interface RealNodeImage {
  /** The archive repo holding the image's commits (unsigned: each test signs its copy). */
  readonly repo: string;
  /** Commit of the release-independent tree (rootfs + product layer) that releases build on. */
  readonly treeCommit: string;
  /** The first release's commit (version {@link BASE_VERSION}), deployed in {@link sysroot}. */
  readonly baseCommit: string;
  /** A sysroot with the first release deployed (to be copied, never booted itself). */
  readonly sysroot: string;
  /** Debian's os-release, the base of every release's own. */
  readonly osRelease: string;
  /** Seconds this call spent building; 0 when everything came from the cache. */
  readonly buildSecs: number;
  /** Which layers were built now (`rootfs`, `image`). */
  readonly built: readonly string[];
}

/**
 * Commits `trees` (later ones override earlier ones) to `repo` on `branch`; resolves with the checksum.
 * No commit modifiers (`--owner-uid`, `--no-xattrs`): with one, ostree rewrites every file of a
 * `ref=` tree too (37 s instead of 0.5 s for a release over the image tree). The layers are root's.
 */
export async function commitTrees(repo: string, branch: string, trees: readonly string[], meta: { version?: string; subject: string; timestamp?: string }): Promise<string> {
  const args = [`--repo=${repo}`, 'commit', `--branch=${branch}`, ...trees.map((t) => `--tree=${t}`), `--subject=${meta.subject}`];
  if (meta.version !== undefined) args.push(`--add-metadata-string=version=${meta.version}`);
  if (meta.timestamp !== undefined) args.push(`--timestamp=${meta.timestamp}`);
  return (await run('ostree', args)).stdout.trim();
}

/** Builds a sysroot at `dir` with `commit` from `repo` deployed (bootloader `none`: BLS entries only). */
async function buildSysroot(dir: string, repo: string, commit: string): Promise<void> {
  const srepo = join(dir, 'ostree/repo');
  await mkdir(dir, { recursive: true });
  await run('ostree', ['admin', 'init-fs', dir]);
  await run('ostree', ['admin', 'os-init', REALNODE_OSNAME, `--sysroot=${dir}`]);
  await run('ostree', [`--repo=${srepo}`, 'config', 'set', 'sysroot.bootloader', 'none']);
  // The URL and the trusted key are set per node (node.ts): the servers listen on the node's network.
  await run('ostree', [`--repo=${srepo}`, 'remote', 'add', '--no-gpg-verify', REALNODE_OSNAME, 'http://unset.invalid/', REALNODE_REF]);
  await run('ostree', [`--repo=${srepo}`, 'pull-local', repo, commit]);
  await run('ostree', [`--repo=${srepo}`, 'refs', `--create=${REALNODE_OSNAME}:${REALNODE_REF}`, commit]);
  await run('ostree', ['admin', 'deploy', `--sysroot=${dir}`, `--os=${REALNODE_OSNAME}`, '--karg=rw', `${REALNODE_OSNAME}:${REALNODE_REF}`], { env: MUTABLE });
  // The persistent journal must exist before journald's flush at the first boot, which runs before
  // tmpfiles could create it: without it the first boot's journal stays in /run and is lost.
  await mkdir(join(dir, 'ostree/deploy', REALNODE_OSNAME, 'var/log/journal'), { recursive: true, mode: 0o2755 });
}

/** Images another run used within this long are kept: that run may still be copying or pulling them. */
const PRUNE_UNUSED_FOR_MS = 2 * 3600 * 1000;

/**
 * Removes the cached images other than `key` that no run has used for {@link PRUNE_UNUSED_FOR_MS}
 * (each use touches its image.json): never used again once their inputs changed (each sysroot is
 * ~400 MB), and their commits from the repo. A run with other inputs (another checkout, an edited
 * tree) may be using its own image right now, so recent ones stay. A test's release repo that
 * hard-linked their objects keeps its links.
 */
async function pruneOtherImages(repo: string, key: string): Promise<void> {
  const pruned: string[] = [];
  for (const old of await readdir(join(CACHE_DIR, 'images'))) {
    if (old === key) continue;
    const used = await stat(join(CACHE_DIR, 'images', old, 'image.json')).then((s) => s.mtimeMs, () => 0);
    if (Date.now() - used < PRUNE_UNUSED_FOR_MS) continue;
    await rm(join(CACHE_DIR, 'images', old), { recursive: true, force: true });
    pruned.push(old);
  }
  const refs = (await run('ostree', [`--repo=${repo}`, 'refs'])).stdout.split('\n');
  const stale = refs.filter((r) => /^realnode\/(image|base)\//.test(r) && pruned.some((k) => r.endsWith(`/${k}`)));
  if (stale.length === 0) return;
  await run('ostree', [`--repo=${repo}`, 'refs', '--delete', ...stale]);
  await run('ostree', [`--repo=${repo}`, 'prune', '--refs-only']);
}

/**
 * The image for the current inputs, from the cache or built now. `scratch` is a directory for the
 * product layer (the test's temp dir is fine). Two runs building at once each build and the second
 * rename loses: harmless, only slower.
 */
export async function ensureImage(scratch: string): Promise<RealNodeImage> {
  const started = Date.now();
  const built: string[] = [];
  const repo = join(CACHE_DIR, 'repo');
  const work = join(CACHE_DIR, 'work');
  await mkdir(work, { recursive: true });
  if (!existsSync(join(repo, 'config'))) await run('ostree', [`--repo=${repo}`, 'init', '--mode=archive']);
  const rootfs = await ensureRootfsCommit(repo, work);
  if (rootfs.built) built.push('rootfs');

  const stage = await mkdtemp(join(scratch, 'product-'));
  await chmod(stage, 0o755); // the stage's top directory becomes the tree's / (mkdtemp makes it 0700)
  await writeProductLayer(stage);
  const key = createHash('sha256').update(`${IMAGE_RECIPE}\0${rootfs.checksum}\0${await treeHash(stage)}`).digest('hex').slice(0, 16);
  const imageDir = join(CACHE_DIR, 'images', key);
  const osRelease = await run('ostree', [`--repo=${repo}`, 'cat', rootfs.checksum, '/usr/lib/os-release']).then((r) => r.stdout);
  if (!existsSync(join(imageDir, 'image.json'))) {
    built.push('image');
    const treeCommit = await commitTrees(repo, `realnode/image/${key}`, [`ref=${rootfs.checksum}`, `dir=${stage}`], { subject: 'real-node image tree' });
    const overlay = await mkdtemp(join(scratch, 'release-'));
    await chmod(overlay, 0o755); // an overlay's top directory becomes the tree's /
    await writeReleaseOverlay(overlay, osRelease, BASE_VERSION);
    const baseCommit = await commitTrees(repo, `realnode/base/${key}`, [`ref=${treeCommit}`, `dir=${overlay}`], {
      version: BASE_VERSION,
      subject: `real node ${BASE_VERSION}`,
      timestamp: BASE_TIMESTAMP,
    });
    const tmp = await mkdtemp(join(work, `image-${key}-`));
    await buildSysroot(join(tmp, 'sysroot'), repo, baseCommit);
    await writeFile(join(tmp, 'image.json'), `${JSON.stringify({ treeCommit, baseCommit }, null, 2)}\n`);
    await mkdir(join(CACHE_DIR, 'images'), { recursive: true });
    await rename(tmp, imageDir).catch(async () => rm(tmp, { recursive: true, force: true }));
    await pruneOtherImages(repo, key);
  }
  await rm(stage, { recursive: true, force: true });
  const now = new Date();
  await utimes(join(imageDir, 'image.json'), now, now); // in use: pruneOtherImages keeps it
  const { treeCommit, baseCommit } = JSON.parse(await readFile(join(imageDir, 'image.json'), 'utf8')) as { treeCommit: string; baseCommit: string };
  return { repo, treeCommit, baseCommit, sysroot: join(imageDir, 'sysroot'), osRelease, buildSecs: (Date.now() - started) / 1000, built };
}
