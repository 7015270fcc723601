// The exact Rollback: ostree 2022.7 has no `admin rollback`, so reorder deployments with libostree's
// write_deployments through python3-gi (the same call rpm-ostree's Rollback makes). Passed with
// `python3 -c` so it works unchanged inside the fake-boot chroot.

/**
 * Python source; argv: SYSROOT OSNAME TARGET (`<checksum>.<serial>` to put first). Prints the new
 * order. Exits 2 with a message on stderr when the target is not found.
 */
export const ROLLBACK_HELPER = `
import sys
import gi
gi.require_version('OSTree', '1.0')
from gi.repository import Gio, OSTree
sysroot_path, osname, target = sys.argv[1], sys.argv[2], sys.argv[3]
sysroot = OSTree.Sysroot.new(Gio.File.new_for_path(sysroot_path))
sysroot.load(None)
sysroot.lock()
try:
    deployments = sysroot.get_deployments()
    key = lambda d: '%s.%d' % (d.get_csum(), d.get_deployserial())
    first = [d for d in deployments if key(d) == target and d.get_osname() == osname]
    if not first:
        sys.stderr.write('error: deployment %s not found\\n' % target)
        sys.exit(2)
    rest = [d for d in deployments if key(d) != target]
    if key(deployments[0]) != target:
        sysroot.write_deployments(first + rest, None)
    print(' '.join(key(d) for d in first + rest))
finally:
    sysroot.unlock()
`;
