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

  // Zincati's own vectors (coreos/zincati src/identity/platform.rs, `test_find_flag`), re-typed:
  // parameters are separated by spaces only, and the value is trimmed, so a tab right after `=`
  // belongs to the value and is trimmed away.
  it.each([
    ['', null],
    ['foo=bar', null],
    ['ignition.platform.id', null],
    ['ignition.platform.id=', null],
    ['ignition.platform.id=\t', null],
    ['ignition.platform.id=ec2', 'ec2'],
    ['ignition.platform.id=\tec2', 'ec2'],
    ['ignition.platform.id=ec2\n', 'ec2'],
    ['foo=bar ignition.platform.id=ec2', 'ec2'],
    ['ignition.platform.id=ec2 foo=bar', 'ec2'],
  ])("agrees with Zincati's cmdline vector %j", (cmdline, want) => {
    expect(platformFromCmdline(cmdline)).toBe(want);
  });

  it('does not split parameters on a tab, as Zincati (the tab stays inside one token)', () => {
    expect(platformFromCmdline('foo=bar\tignition.platform.id=ec2')).toBeNull();
    expect(platformFromCmdline('ignition.platform.id=ec2\tfoo=bar')).toBe('ec2\tfoo=bar');
  });
});
