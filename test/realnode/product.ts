// The product layer of the real-node image: alt-updated installed the way a package installs it
// (scripts/install.sh --destdir), the host's node binary (bookworm's nodejs 18 is too old), and what
// the image maker sets: the stream (Debian's os-release names no ALT branch) and the enabled agent
// unit (`systemctl enable` at image build). Its content hash is part of the image key.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './exec.js';

/** The repository checkout this harness belongs to. */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/dist\/?$/, '').replace(/\/$/, '');
/**
 * The built checkout whose install.sh makes the product layer: this one, or `ALT_REALNODE_SOURCE`
 * (e.g. a `git archive HEAD` export with its own build, to boot committed code while others edit
 * the shared tree).
 */
export const PRODUCT_SOURCE = process.env.ALT_REALNODE_SOURCE ?? PROJECT_ROOT;
/** The stream the nodes follow (set by `identity.stream`: Debian is not ALT). */
export const REALNODE_STREAM = 'sisyphus';

/** Moves everything below `from` into `to` (merging directories), then removes `from`. */
async function mergeInto(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const st = await lstat(src);
    if (st.isDirectory() && existsSync(dst)) await mergeInto(src, dst);
    else await rename(src, dst);
  }
  await rm(from, { recursive: true, force: true });
}

/** Finds `name` anywhere below `dir`; the path relative to `dir`, or null. */
async function findFile(dir: string, name: string): Promise<string | null> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name === name && !e.isDirectory()) return relative(dir, p);
    if (e.isDirectory()) {
      const hit = await findFile(p, name);
      if (hit !== null) return join(e.name, hit);
    }
  }
  return null;
}

/**
 * Writes the product layer into `stage` (an empty directory): install.sh's output with its `/etc`
 * moved to `/usr/etc` (ostree's place for the default configuration), `/usr/bin/node`, and the image
 * maker's settings. The tree is what a package installs: install.sh from {@link PRODUCT_SOURCE}, built.
 */
export async function writeProductLayer(stage: string): Promise<void> {
  await run('bash', [join(PRODUCT_SOURCE, 'scripts/install.sh'), '--destdir', stage, '--node', '/usr/bin/node'], { cwd: PRODUCT_SOURCE });
  if (existsSync(join(stage, 'etc'))) await mergeInto(join(stage, 'etc'), join(stage, 'usr/etc'));
  await mkdir(join(stage, 'usr/bin'), { recursive: true });
  await copyFile(process.execPath, join(stage, 'usr/bin/node'));
  const etc = join(stage, 'usr/etc');
  await mkdir(join(etc, 'alt-updated/config.d'), { recursive: true });
  await writeFile(
    join(etc, 'alt-updated/config.d/40-realnode-identity.toml'),
    `# Debian stands in for ALT in the real-node tests: name the stream.\n[identity]\nstream = "${REALNODE_STREAM}"\n`,
  );
  const unit = await findFile(join(stage, 'usr/lib'), 'alt-updated.service');
  if (unit === null) throw new Error(`real-node image: install.sh installed no alt-updated.service below ${stage}/usr/lib`);
  const wants = join(etc, 'systemd/system/multi-user.target.wants');
  await mkdir(wants, { recursive: true });
  await symlink(`/usr/lib/${unit}`, join(wants, 'alt-updated.service'));
}

/** A content hash of the tree at `dir`: every path, mode, link target and file content, in order. */
export async function treeHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    const names = (await readdir(d)).sort();
    for (const name of names) {
      const p = join(d, name);
      const st = await lstat(p);
      h.update(`${relative(dir, p)}\0${st.mode}\0`);
      if (st.isSymbolicLink()) h.update(await readlink(p));
      else if (st.isDirectory()) await walk(p);
      else h.update(await readFile(p));
      h.update('\0');
    }
  };
  await walk(dir);
  return h.digest('hex');
}

/** Writes the per-release overlay into `dir`: os-release with `version`, and a plain marker file. */
export async function writeReleaseOverlay(dir: string, baseOsRelease: string, version: string): Promise<void> {
  const lines = baseOsRelease.split('\n').filter((l) => l && !/^(VERSION|VERSION_ID|PRETTY_NAME)=/.test(l));
  lines.push(`VERSION="${version}"`, `VERSION_ID=${version}`, `PRETTY_NAME="Debian GNU/Linux 12 (alt-updated real node ${version})"`);
  await mkdir(join(dir, 'usr/lib'), { recursive: true });
  await mkdir(join(dir, 'usr/share'), { recursive: true });
  await writeFile(join(dir, 'usr/lib/os-release'), `${lines.join('\n')}\n`);
  await writeFile(join(dir, 'usr/share/realnode-version'), `${version}\n`);
}
