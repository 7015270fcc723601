import { describe, expect, it } from 'vitest';
import { basearchFromNodeArch, platformFromCmdline } from '../../../src/identity/platform.js';

describe('identity/platform', () => {
  it.each([
    ['x64', 'x86_64'],
    ['arm64', 'aarch64'],
    ['ppc64', 'ppc64le'],
    ['s390x', 's390x'],
    ['riscv64', 'riscv64'],
    ['ia32', 'i686'],
  ])('maps process.arch %s to %s', (arch, gnu) => {
    expect(basearchFromNodeArch(arch)).toBe(gnu);
  });

  it.each([
    ['BOOT_IMAGE=/vmlinuz root=UUID=x ignition.platform.id=qemu quiet\n', 'qemu'],
    ['ignition.platform.id= ignition.platform.id=metal', 'metal'],
    ['ignition.platform.idx=aws ignition.platform.id=gcp', 'gcp'],
    ['root=/dev/sda quiet', null],
    ['', null],
    ['ignition.platform.id=', null],
  ])('reads the platform from %j', (cmdline, want) => {
    expect(platformFromCmdline(cmdline)).toBe(want);
  });
});
