// Host facts that need no file: architecture (GNU naming) and the kernel command line platform id.

/** Maps Node's `process.arch` to the GNU/ostree architecture name used in refs and graph requests. */
export function basearchFromNodeArch(arch: string): string {
  switch (arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'ppc64':
      // Node reports `ppc64` on little-endian POWER too; ALT and Fedora only ship ppc64le.
      return 'ppc64le';
    case 'ia32':
      return 'i686';
    case 'arm':
      return 'armh';
    default:
      // s390x, riscv64, loong64 and others already use their GNU name.
      return arch;
  }
}

/**
 * The first non-empty `ignition.platform.id=` value of a kernel command line, or null (optional on
 * ALT). Tokens are split on whitespace without quote handling, as Zincati does.
 */
export function platformFromCmdline(cmdline: string): string | null {
  const flag = 'ignition.platform.id=';
  for (const token of cmdline.split(/\s+/)) {
    if (!token.startsWith(flag)) continue;
    const v = token.slice(flag.length).trim();
    if (v !== '') return v;
  }
  return null;
}
