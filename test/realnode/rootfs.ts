// The operating-system layer of the real-node image: a Debian bookworm rootfs from debootstrap,
// turned into an ostree tree and committed once into the shared cache repo. Debian stands in for
// ALT (no ALT mirror is reachable from the build machines); the agent is told its stream through
// `identity.stream` (image.ts). The recipe is /work/shared/reference/real-node-nspawn.md, section 1.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';

/** Bookworm packages of the node: systemd as PID 1 with logind and a system bus, and ostree with its boot units. */
export const ROOTFS_PACKAGES: readonly string[] = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'libpam-systemd',
  'ostree',
  // ostree-finalize-staged.{path,service}: the real finalization at shutdown.
  'ostree-boot',
  'login',
  'passwd',
  'iproute2',
  'procps',
  'less',
  // The OCI path (test/realnode/oci.ts): the bootc stand-in pulls with skopeo, whose signature check
  // (GPG simple signing, gpgme) runs gpg. debootstrap resolves no virtual packages: skopeo's
  // containers-common needs a container-network-stack, which containernetworking-plugins provides.
  'skopeo',
  'containernetworking-plugins',
  'gnupg',
];
/** Suite debootstrap installs. */
export const ROOTFS_SUITE = 'bookworm';
/** Fake kernel version: `ostree admin deploy` needs a kernel file; nspawn boots the host's kernel. */
const KVER = '6.1.0-realnode';
/** Bumped whenever the conversion below changes, so cached commits of the old recipe are not reused. */
const RECIPE = 1;

/** The mirror the machine's own apt uses (deb822 `URIs:` or a `deb` line); Debian's default otherwise. */
export function aptMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const m = /^URIs:\s*(\S+)/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (m?.[1]) return m[1];
  }
  return 'http://deb.debian.org/debian';
}

/** Cache key of the rootfs commit: what debootstrap gets, from where, and the conversion recipe. */
export function rootfsKey(mirror: string = aptMirror()): string {
  const inputs = JSON.stringify({ RECIPE, suite: ROOTFS_SUITE, packages: ROOTFS_PACKAGES, mirror, kver: KVER });
  return createHash('sha256').update(inputs).digest('hex').slice(0, 16);
}

/**
 * Makes a debootstrap rootfs an ostree tree, in place: `/etc` becomes `/usr/etc`, `/var` and the
 * other writable places are emptied and become links into `/var` (created at boot by tmpfiles),
 * `/dev` is empty, and a placeholder kernel sits in `/usr/lib/modules` for `ostree admin deploy`.
 */
export async function convertToOstreeTree(tree: string): Promise<void> {
  await run('chroot', [tree, 'chpasswd'], { input: 'root:root\n' });
  await writeFile(join(tree, 'etc/machine-id'), '');
  await writeFile(join(tree, 'etc/fstab'), '');
  const modules = join(tree, 'usr/lib/modules', KVER);
  await mkdir(modules, { recursive: true });
  await writeFile(join(modules, 'vmlinuz'), 'real-node placeholder kernel: nspawn boots the host kernel\n');
  await writeFile(join(modules, 'initramfs.img'), 'real-node placeholder initramfs\n');
  // ostree commit refuses device nodes ("Not a regular file or symlink: full").
  for (const e of await readdir(join(tree, 'dev'))) await rm(join(tree, 'dev', e), { recursive: true, force: true });
  await writeFile(
    join(tree, 'usr/lib/tmpfiles.d/realnode-ostree.conf'),
    [
      '# The writable places of an ostree deployment live in the stateroot /var.',
      'd /var/home 0755 root root -',
      'd /var/roothome 0700 root root -',
      'd /var/opt 0755 root root -',
      'd /var/srv 0755 root root -',
      'd /var/mnt 0755 root root -',
      '# Persistent journal: `journalctl -b -1` reads the previous boot.',
      'd /var/log/journal 2755 root systemd-journal -',
      '',
    ].join('\n'),
  );
  await rename(join(tree, 'etc'), join(tree, 'usr/etc'));
  for (const d of ['var', 'home', 'root', 'opt', 'srv', 'mnt', 'tmp']) await rm(join(tree, d), { recursive: true, force: true });
  await mkdir(join(tree, 'var'));
  await mkdir(join(tree, 'tmp'));
  await chmod(join(tree, 'tmp'), 0o1777);
  await mkdir(join(tree, 'sysroot'));
  await mkdir(join(tree, 'boot'), { recursive: true });
  const links: Record<string, string> = { ostree: 'sysroot/ostree', home: 'var/home', root: 'var/roothome', opt: 'var/opt', srv: 'var/srv', mnt: 'var/mnt' };
  for (const [name, target] of Object.entries(links)) await symlink(target, join(tree, name));
}

/**
 * The checksum of the Debian rootfs commit in the cache repo `repo` (ref `realnode/rootfs/<key>`),
 * running debootstrap and the conversion first when the cache has no commit for the current inputs.
 * `work` is a scratch directory on the cache's filesystem. Resolves with the commit and whether it was built.
 */
export async function ensureRootfsCommit(repo: string, work: string): Promise<{ checksum: string; built: boolean }> {
  const mirror = aptMirror();
  const ref = `realnode/rootfs/${rootfsKey(mirror)}`;
  const have = await run('ostree', [`--repo=${repo}`, 'rev-parse', ref], { check: false });
  if (have.code === 0) return { checksum: have.stdout.trim(), built: false };
  const dir = await mkdtemp(join(work, 'rootfs-'));
  try {
    const tree = join(dir, 'tree');
    await run('debootstrap', ['--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`, ROOTFS_SUITE, tree, mirror]);
    await convertToOstreeTree(tree);
    const { stdout } = await run('ostree', [`--repo=${repo}`, 'commit', `--branch=${ref}`, `--tree=dir=${tree}`, '--subject=Debian bookworm rootfs for real-node tests', '--no-xattrs']);
    return { checksum: stdout.trim(), built: true };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
