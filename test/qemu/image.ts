// The qemu smoke test's image: the real-node image (test/realnode/) plus a real kernel and a dracut
// initramfs with ostree's prepare-root, as an ext4 disk image of a whole sysroot. A derived rootfs of
// its own (debootstrap with the kernel), so the nspawn image every other test boots stays small and
// fast to build. Cached in the real-node cache repo by its inputs, like the nspawn image.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../realnode/exec.js';
import { BASE_VERSION, CACHE_DIR, MUTABLE, REALNODE_OSNAME, REALNODE_REF, commitTrees } from '../realnode/image.js';
import { writeProductLayer, writeReleaseOverlay } from '../realnode/product.js';
import { ROOTFS_PACKAGES, ROOTFS_SUITE, aptMirror, convertToOstreeTree, rootfsKey } from '../realnode/rootfs.js';

/** What the VM needs beyond the nspawn node's packages: a kernel, udev and dracut for the initramfs. */
const KERNEL_PACKAGES = ['linux-image-cloud-amd64', 'udev', 'dracut'];
/** Bumped whenever the recipe below changes what the image holds. */
const QEMU_RECIPE = 1;
/** The release the guest stages and reboots into. */
export const NEXT_VERSION = '20261102.0.0';
/** The console line prefix of the guest's smoke unit. */
export const MARKER = 'QEMU-SMOKE';

/** A sysroot with the first release deployed and the next one in its repo, ready to become a disk. */
export interface QemuSysroot {
  readonly dir: string;
  readonly baseCommit: string;
  readonly nextCommit: string;
  /** Seconds spent building (0: all from the cache). */
  readonly buildSecs: number;
}

// The guest's smoke unit: says on the console what booted, then stages the next release and reboots
// (first boot) or powers off (second boot). After alt-updated.service: its start job (READY) is done.
const SMOKE_SCRIPT = `#!/bin/sh
say() { echo "${MARKER} $*" > /dev/console; }
v=$(cat /usr/share/realnode-version)
agent() { systemctl show alt-updated.service -p "$1" --value; }
# A TCG guest is slow: give a start or an automatic restart of the agent time to settle (bounded).
i=0; while [ "$(agent ActiveState)" = activating ] && [ $i -lt 300 ]; do sleep 1; i=$((i+1)); done
say "booted version=$v agent=$(agent ActiveState)/$(agent SubState) result=$(agent Result) restarts=$(agent NRestarts) ostree-booted=$([ -e /run/ostree-booted ] && echo yes || echo no) root=$(findmnt -n -o SOURCE /) cmdline-ostree=$(grep -o 'ostree=[^ ]*' /proc/cmdline)"
[ "$(agent ActiveState)" = active ] || journalctl -b -u alt-updated.service -n 15 -o cat --no-pager | sed "s/^/${MARKER} agent-log /" > /dev/console
next=$(cat /var/lib/qemu-smoke/next 2>/dev/null || true)
if [ "$v" = "${BASE_VERSION}" ] && [ -n "$next" ]; then
  if ostree admin deploy --stage --os=${REALNODE_OSNAME} "$next" > /dev/console 2>&1; then say "staged $next"; systemctl reboot; else say "stage-failed"; systemctl poweroff; fi
else
  say "boots-in-journal $(journalctl --list-boots --no-pager | wc -l)"
  say "previous-boot-finalize $(journalctl -b -1 -u ostree-finalize-staged.service -o cat --no-pager | grep -c 'Bootloader updated')"
  journalctl -b -1 -u ostree-finalize-staged.service -o cat --no-pager | tail -n 8 | sed "s/^/${MARKER} finalize-log /" > /dev/console
  say "status $(ostree admin status | tr '\\n' ' ')"
  systemctl poweroff
fi
`;
const SMOKE_UNIT = `[Unit]
Description=qemu smoke test: report this boot on the console, then stage and reboot or power off
After=alt-updated.service multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/libexec/qemu-smoke
[Install]
WantedBy=multi-user.target
`;

/** The kernel version installed in `tree` (the one directory of /usr/lib/modules with a vmlinuz in /boot). */
async function kernelVersion(tree: string): Promise<string> {
  const boot = (await readdir(join(tree, 'boot'))).filter((f) => f.startsWith('vmlinuz-'));
  if (boot.length !== 1) throw new Error(`qemu image: expected one kernel in ${tree}/boot, found ${boot.join(', ') || 'none'}`);
  return boot[0]!.slice('vmlinuz-'.length);
}

/** The cache ref of the derived rootfs: keyed by the nspawn rootfs's inputs, the kernel packages and the recipe. */
export function kernelRootfsRef(): string {
  return `realnode/qemu-rootfs/${createHash('sha256').update(`${QEMU_RECIPE}\0${rootfsKey()}\0${KERNEL_PACKAGES.join(',')}`).digest('hex').slice(0, 16)}`;
}

/** Installs the kernel packages into a debootstrap `tree` (through apt, with network), then makes it an ostree tree. */
export async function prepareKernelTree(tree: string): Promise<void> {
  const nspawn = ['--quiet', '--register=no', '--keep-unit', '-D', tree];
  // Through apt, not debootstrap's --include: debootstrap's resolver picks initramfs-tools for the
  // kernel, which conflicts with dracut (Debian's initramfs-tools has no ostree hook).
  if (!(await readdir(join(tree, 'boot'))).some((f) => f.startsWith('vmlinuz-'))) {
    await run('systemd-nspawn', [...nspawn, 'sh', '-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${KERNEL_PACKAGES.join(' ')}`]);
  }
  const kver = await kernelVersion(tree);
  const modules = join(tree, 'usr/lib/modules', kver);
  // A generic initramfs (not host-only: it is built in a container) with ostree's dracut module,
  // which runs ostree-prepare-root on the ostree= karg.
  await run('systemd-nspawn', [...nspawn, 'dracut', '--no-hostonly', '--add', 'ostree', '--force', '--kver', kver, `/usr/lib/modules/${kver}/initramfs.img`]);
  await rename(join(tree, 'boot', `vmlinuz-${kver}`), join(modules, 'vmlinuz'));
  for (const f of await readdir(join(tree, 'boot'))) await rm(join(tree, 'boot', f), { recursive: true, force: true });
  for (const f of ['vmlinuz', 'vmlinuz.old', 'initrd.img', 'initrd.img.old']) await rm(join(tree, f), { force: true });
  await convertToOstreeTree(tree);
  // The nspawn image's placeholder kernel: ostree admin deploy must see only the real one.
  for (const d of await readdir(join(tree, 'usr/lib/modules'))) if (d !== kver) await rm(join(tree, 'usr/lib/modules', d), { recursive: true, force: true });
}

/** Commits the prepared `tree` as the derived rootfs; resolves with its checksum. */
export async function commitKernelRootfs(repo: string, tree: string): Promise<string> {
  const args = [`--repo=${repo}`, 'commit', `--branch=${kernelRootfsRef()}`, `--tree=dir=${tree}`, '--subject=Debian bookworm rootfs with a kernel for the qemu smoke test', '--no-xattrs'];
  return (await run('ostree', args)).stdout.trim();
}

/** The derived rootfs commit: the node's packages plus a kernel; /usr/lib/modules/K has vmlinuz and a dracut initramfs. */
async function ensureKernelRootfs(repo: string, work: string): Promise<string> {
  const have = await run('ostree', [`--repo=${repo}`, 'rev-parse', kernelRootfsRef()], { check: false });
  if (have.code === 0) return have.stdout.trim();
  const dir = await mkdtemp(join(work, 'qemu-rootfs-'));
  try {
    const tree = join(dir, 'tree');
    await run('debootstrap', ['--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`, ROOTFS_SUITE, tree, aptMirror()]);
    await prepareKernelTree(tree);
    return await commitKernelRootfs(repo, tree);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The smoke unit and its script, enabled, as a tree layer in `dir`. */
async function writeSmokeLayer(dir: string): Promise<void> {
  await mkdir(join(dir, 'usr/libexec'), { recursive: true });
  await mkdir(join(dir, 'usr/lib/systemd/system'), { recursive: true });
  await mkdir(join(dir, 'usr/etc/systemd/system/multi-user.target.wants'), { recursive: true });
  await writeFile(join(dir, 'usr/libexec/qemu-smoke'), SMOKE_SCRIPT, { mode: 0o755 });
  await writeFile(join(dir, 'usr/lib/systemd/system/qemu-smoke.service'), SMOKE_UNIT);
  await symlink('/usr/lib/systemd/system/qemu-smoke.service', join(dir, 'usr/etc/systemd/system/multi-user.target.wants/qemu-smoke.service'));
}

/**
 * Builds, in `scratch`, a sysroot for the VM: the first release deployed with the VM's kargs
 * (`root=/dev/vda rw console=ttyS0`), the next release in its repo (its checksum in the stateroot's
 * `/var/lib/qemu-smoke/next` for the smoke unit), and the agent configured with an unreachable graph.
 */
export async function buildQemuSysroot(scratch: string): Promise<QemuSysroot> {
  const started = Date.now();
  const repo = join(CACHE_DIR, 'repo');
  const work = join(CACHE_DIR, 'work');
  await mkdir(work, { recursive: true });
  if (!existsSync(join(repo, 'config'))) await run('ostree', [`--repo=${repo}`, 'init', '--mode=archive']);
  const rootfs = await ensureKernelRootfs(repo, work);
  const layers: string[] = [];
  for (const name of ['product', 'smoke', 'base', 'next']) {
    const d = join(scratch, name);
    await mkdir(d, { recursive: true });
    await chmod(d, 0o755); // a layer's top directory becomes the tree's /
    layers.push(d);
  }
  const [product, smoke, base, next] = layers as [string, string, string, string];
  await writeProductLayer(product);
  await writeSmokeLayer(smoke);
  const osRelease = (await run('ostree', [`--repo=${repo}`, 'cat', rootfs, '/usr/lib/os-release'])).stdout;
  await writeReleaseOverlay(base, osRelease, BASE_VERSION);
  await writeReleaseOverlay(next, osRelease, NEXT_VERSION);
  const tree = await commitTrees(repo, 'realnode/qemu-image', [`ref=${rootfs}`, `dir=${product}`, `dir=${smoke}`], { subject: 'qemu smoke image tree' });
  const baseCommit = await commitTrees(repo, 'realnode/qemu-base', [`ref=${tree}`, `dir=${base}`], { version: BASE_VERSION, subject: `qemu ${BASE_VERSION}` });
  const nextCommit = await commitTrees(repo, 'realnode/qemu-next', [`ref=${tree}`, `dir=${next}`], { version: NEXT_VERSION, subject: `qemu ${NEXT_VERSION}` });

  const dir = join(scratch, 'sysroot');
  const srepo = join(dir, 'ostree/repo');
  await mkdir(dir, { recursive: true });
  await run('ostree', ['admin', 'init-fs', dir]);
  await run('ostree', ['admin', 'os-init', REALNODE_OSNAME, `--sysroot=${dir}`]);
  await run('ostree', [`--repo=${srepo}`, 'config', 'set', 'sysroot.bootloader', 'none']);
  await run('ostree', [`--repo=${srepo}`, 'remote', 'add', '--no-gpg-verify', REALNODE_OSNAME, 'http://unset.invalid/', REALNODE_REF]);
  await run('ostree', [`--repo=${srepo}`, 'pull-local', repo, baseCommit, nextCommit]);
  await run('ostree', [`--repo=${srepo}`, 'refs', `--create=${REALNODE_OSNAME}:${REALNODE_REF}`, baseCommit]);
  await run('ostree', [`--repo=${srepo}`, 'refs', '--create=qemu-smoke/next', nextCommit]);
  const kargs = ['root=/dev/vda', 'rw', 'console=ttyS0'].map((k) => `--karg=${k}`);
  await run('ostree', ['admin', 'deploy', `--sysroot=${dir}`, `--os=${REALNODE_OSNAME}`, ...kargs, `${REALNODE_OSNAME}:${REALNODE_REF}`], { env: MUTABLE });
  const stateroot = join(dir, 'ostree/deploy', REALNODE_OSNAME);
  await mkdir(join(stateroot, 'var/log/journal'), { recursive: true, mode: 0o2755 });
  await mkdir(join(stateroot, 'var/lib/qemu-smoke'), { recursive: true });
  await writeFile(join(stateroot, 'var/lib/qemu-smoke/next'), `${nextCommit}\n`);
  const [deployment] = (await readdir(join(stateroot, 'deploy'))).filter((d) => d.endsWith('.0'));
  const etc = join(stateroot, 'deploy', deployment!, 'etc');
  await writeFile(join(etc, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
  await writeFile(join(etc, 'hostname'), 'qemu1\n');
  await mkdir(join(etc, 'alt-updated/config.d'), { recursive: true });
  // No network in the VM: the agent starts, reaches READY and fails its checks quietly.
  await writeFile(join(etc, 'alt-updated/config.d/50-qemu.toml'), '[cincinnati]\nbase_url = "http://127.0.0.1:9/"\n[agent.timing]\nsteady_interval_secs = 3600\n');
  return { dir, baseCommit, nextCommit, buildSecs: (Date.now() - started) / 1000 };
}

/** Makes `sysroot` an ext4 disk image at `image` (sparse, 4 GiB, label `sysroot`). */
export async function makeDiskImage(sysroot: string, image: string): Promise<void> {
  await run('truncate', ['-s', '4G', image]);
  await run('mkfs.ext4', ['-q', '-L', 'sysroot', '-d', sysroot, image]);
}
