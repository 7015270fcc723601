// Builds real directory trees for config and identity tests: files, symlinks, directories.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A node of a test tree: file text, a symlink, or a directory. */
export type TreeNode = string | { link: string } | { dir: true };

/** Paths relative to the root (e.g. `etc/alt-updated/config.d/10-a.toml`) to nodes. */
export type Tree = Record<string, TreeNode>;

/** Writes `tree` under `root`. */
export async function writeTree(root: string, tree: Tree): Promise<void> {
  for (const [rel, node] of Object.entries(tree)) {
    const path = join(root, rel);
    await mkdir(dirname(path), { recursive: true });
    if (typeof node === 'string') await writeFile(path, node);
    else if ('link' in node) await symlink(node.link, path);
    else await mkdir(path, { recursive: true });
  }
}

/** Creates a temporary root holding `tree`; `cleanup()` removes it. */
export async function tempRoot(tree: Tree = {}): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'alt-updated-cfg-'));
  await writeTree(root, tree);
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Relative paths of the three drop-in directories. */
export const USR = 'usr/lib/alt-updated/config.d';
/** `/run` drop-in directory, relative. */
export const RUN = 'run/alt-updated/config.d';
/** `/etc` drop-in directory, relative. */
export const ETC = 'etc/alt-updated/config.d';
