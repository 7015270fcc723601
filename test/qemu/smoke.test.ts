// qemu smoke test: the real-node image with a real kernel and dracut initramfs, its sysroot made an
// ext4 disk, booted under TCG: the kernel command line's ostree= karg, ostree-prepare-root in the
// initramfs, systemd starting alt-updated.service (READY under its real User= and sandbox), then a
// release staged in the guest, a real reboot with ostree-finalize-staged at shutdown, and the second
// boot from the BLS entry ostree wrote into the disk image.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realNodeUnavailable } from '../realnode/available.js';
import { run } from '../realnode/exec.js';
import { BASE_VERSION } from '../realnode/image.js';
import { MARKER, NEXT_VERSION, buildQemuSysroot, makeDiskImage } from './image.js';
import { bootOnce, type VmBoot } from './vm.js';

/** A boot's marker lines (the guest's smoke unit writes them to the console, where systemd's status output may share their line). */
const markers = (b: VmBoot): string[] => b.console.split('\n').filter((l) => l.includes(MARKER)).map((l) => l.slice(l.indexOf(MARKER)).trim());
/** The marker line of `kind` (`booted`, `status`, ...). */
const marker = (lines: readonly string[], kind: string): string | undefined => lines.find((l) => l.startsWith(`${MARKER} ${kind} `));

const why = (await realNodeUnavailable()) ?? ((await run('sh', ['-c', 'command -v qemu-system-x86_64 && command -v debugfs'], { check: false })).code === 0 ? null : 'qemu smoke test skipped: apt-get install qemu-system-x86');
if (why !== null) console.warn(why);

describe.skipIf(why !== null)('qemu smoke: two boots and a reboot of the real-node sysroot as a disk image (TCG)', () => {
  let work = '';
  let image = '';
  const started = Date.now();
  const boots: VmBoot[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'altqemu-'));
    const sysroot = await buildQemuSysroot(work);
    image = join(work, 'disk.img');
    await makeDiskImage(sysroot.dir, image);
    await rm(sysroot.dir, { recursive: true, force: true });
    console.info(`qemu image: sysroot built in ${sysroot.buildSecs.toFixed(1)} s`);
  }, 1_200_000);

  afterAll(async () => {
    const secs = boots.map((b, i) => `boot ${i + 1}: ${b.secs.toFixed(0)} s (${b.ended})`).join('; ');
    console.info(`qemu smoke: ${((Date.now() - started) / 1000).toFixed(0)} s in all; ${secs}\n${boots.flatMap(markers).join('\n')}`);
    // ALT_QEMU_KEEP=1 keeps the disk image and the consoles for a look (debugfs IMAGE).
    if (work && process.env.ALT_QEMU_KEEP !== '1') await rm(work, { recursive: true, force: true });
  });

  it('boots the first release, stages the next, reboots, and boots the next from the entry ostree wrote', async () => {
    boots.push(await bootOnce(image, work, 1, 900_000));
    const first = boots[0]!;
    const m1 = markers(first);
    expect(marker(m1, 'booted'), m1.join('\n')).toMatch(new RegExp(`version=${BASE_VERSION.replace(/\./g, '\\.')} agent=active/running result=success restarts=0 ostree-booted=yes root=/dev/vda\\S* cmdline-ostree=ostree=/ostree/boot`));
    expect(m1.some((l) => l.startsWith(`${MARKER} staged `))).toBe(true);
    expect(first.ended).toBe('reboot');

    boots.push(await bootOnce(image, work, 2, 900_000));
    const second = boots[1]!;
    expect(second.entry).not.toBe(first.entry);
    const m2 = markers(second);
    expect(marker(m2, 'booted'), m2.join('\n')).toMatch(new RegExp(`version=${NEXT_VERSION.replace(/\./g, '\\.')} agent=active/running result=success restarts=0 ostree-booted=yes`));
    // The real ostree-finalize-staged.service wrote the new entry at the first boot's shutdown.
    // (libostree logs it twice: structured and on stderr)
    expect(marker(m2, 'previous-boot-finalize'), m2.join('\n')).toMatch(/ previous-boot-finalize [1-9]\d*$/);
    // ostree admin status: the new deployment booted (*), the first one kept for rollback.
    expect(marker(m2, 'status'), m2.join('\n')).toMatch(/\* altcos [0-9a-f]+\.0 .*Version: 20261102\.0\.0.*\(rollback\)/);
    expect(second.ended).toBe('poweroff');
  }, 1_800_000);
});
