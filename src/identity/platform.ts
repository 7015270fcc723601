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
 * ALT). Zincati's rule, so both agents report the same platform: parameters are separated by spaces
 * only (a tab is part of a token, no quote handling), a parameter is `key=value` split at the first
 * `=`, and the value is trimmed of whitespace, so `ignition.platform.id=\tec2` gives `ec2`.
 */
export function platformFromCmdline(cmdline: string): string | null {
  const flag = 'ignition.platform.id';
  for (const token of cmdline.split(' ')) {
    const eq = token.indexOf('=');
    if (eq < 0 || token.slice(0, eq) !== flag) continue;
    const v = token.slice(eq + 1).trim();
    if (v !== '') return v;
  }
  return null;
}
