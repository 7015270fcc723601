// A test's release repo: a copy of the image's archive repo (objects hard-linked, never modified in
// place by ostree) in the test's temp dir, with the first release on the nodes' ref and new releases
// committed over the image tree: only the release overlay (os-release, a marker) is new, so a commit
// takes a fraction of a second and a node's pull fetches just that. Every commit is signed with the
// test's key, as the fixture repos are (test/helpers/ostree-repo.ts).
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SigningKey } from '../helpers/signing.js';
import { run } from './exec.js';
import { BASE_VERSION, REALNODE_REF, commitTrees, type RealNodeImage } from './image.js';
import { writeReleaseOverlay } from './product.js';

/** A release in the test repo. */
export interface Release {
  readonly version: string;
  readonly checksum: string;
}

/** A file a release carries beside its overlay, e.g. a health check in `usr/lib/alt-updated/health.d`. */
export interface ReleaseFile {
  readonly content: string;
  /** File mode (default 0644; a check needs 0755). */
  readonly mode?: number;
}

/** The test's release repo. */
export interface ReleaseRepo {
  readonly path: string;
  /** The release the nodes boot first. */
  readonly base: Release;
  /**
   * Commits release `version` on the nodes' ref (parent: the ref's head), signs it, updates the summary.
   * `files` (path relative to `/`, below `usr/`: ostree keeps `/etc` defaults in `usr/etc`) go into
   * this release's overlay only; later releases do not inherit them.
   */
  release(version: string, timestamp: string, files?: Readonly<Record<string, ReleaseFile>>): Promise<Release>;
}

/** Creates the release repo for `image`, signing with `key`. */
export async function createReleaseRepo(image: RealNodeImage, key: SigningKey): Promise<ReleaseRepo> {
  const base = await mkdtemp(join(tmpdir(), 'altrn-repo-'));
  const path = join(base, 'repo');
  await run('ostree', [`--repo=${path}`, 'init', '--mode=archive']);
  await rm(join(path, 'objects'), { recursive: true });
  await run('cp', ['-al', join(image.repo, 'objects'), join(path, 'objects')]);
  await run('ostree', [`--repo=${path}`, 'refs', `--create=${REALNODE_REF}`, image.baseCommit]);
  const finish = async (checksum: string): Promise<void> => {
    await key.sign(path, checksum);
    await run('ostree', [`--repo=${path}`, 'summary', '-u']);
  };
  await finish(image.baseCommit);
  let n = 0;
  return {
    path,
    base: { version: BASE_VERSION, checksum: image.baseCommit },
    async release(version, timestamp, files = {}) {
      const overlay = join(base, `overlay-${n++}`);
      await mkdir(overlay, { mode: 0o755 }); // its top directory becomes the tree's /
      await writeReleaseOverlay(overlay, image.osRelease, version);
      for (const [rel, f] of Object.entries(files)) {
        const p = join(overlay, rel);
        await mkdir(dirname(p), { recursive: true, mode: 0o755 });
        await writeFile(p, f.content);
        await chmod(p, f.mode ?? 0o644); // explicit: the umask must not decide whether a check runs
      }
      const checksum = await commitTrees(path, REALNODE_REF, [`ref=${image.treeCommit}`, `dir=${overlay}`], { version, subject: `real node ${version}`, timestamp });
      await finish(checksum);
      return { version, checksum };
    },
  };
}
