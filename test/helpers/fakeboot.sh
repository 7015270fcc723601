#!/bin/sh
# Fake-booted ostree environment for tests and the demo (see shared/reference/ostree-test-sysroot.md).
#
# usage: fakeboot.sh STATE_DIR CMD [ARG...]
#
# STATE_DIR holds:
#   sysroot-path  absolute path of the test sysroot (one line)
#   booted        deployment directory relative to the sysroot, e.g. ostree/deploy/altcos/deploy/<csum>.0
#   run/          the per-test /run (contains ostree-booted)
#
# Runs CMD in a private mount+pid namespace, chrooted into the "booted" deployment with the sysroot
# bind-mounted at /sysroot, so libostree sees a booted system and --stage, the finalization lock file
# and finalize-staged are ostree's own. Needs root (CAP_SYS_ADMIN).
set -eu
state=$1
shift
if [ -z "${ALT_FAKEBOOT_INNER:-}" ]; then
  # A shared lock for the whole command (fd 9 is inherited through unshare and chroot): a simulated
  # reboot (fakeboot-reboot.sh) takes it exclusively, so no command sees a half-rebooted node.
  exec 9>>"$state/fakeboot.lock"
  flock -s 9
  ALT_FAKEBOOT_INNER=1 exec unshare -m -p -f --kill-child --propagation private "$0" "$state" "$@"
fi
unset ALT_FAKEBOOT_INNER
sysroot=$(cat "$state/sysroot-path")
booted=$(cat "$state/booted")
d="$sysroot/$booted"
[ -n "$booted" ] && [ -d "$d" ] || { echo "fakeboot: booted deployment $d missing" >&2; exit 125; }
mount --bind "$sysroot" "$d/sysroot"
mount --bind "$sysroot/boot" "$d/boot"
# The host's ostree binary and libraries; the test trees contain no real userland.
mount --bind /usr "$d/usr"
mount -t proc proc "$d/proc"
mount --rbind /dev "$d/dev"
mount --bind "$state/run" "$d/run"
mount -t tmpfs tmpfs "$d/tmp"
# The stateroot's /var, as ostree-prepare-root mounts it (pulls need /var/tmp).
os=$(echo "$booted" | cut -d/ -f3)
mkdir -p "$sysroot/ostree/deploy/$os/var/tmp"
chmod 1777 "$sysroot/ostree/deploy/$os/var/tmp"
mount --bind "$sysroot/ostree/deploy/$os/var" "$d/var"
# Test sysroots must stay removable with rm -rf (no immutable bit on deployment roots).
export OSTREE_SYSROOT_DEBUG=mutable-deployments
# The host's TMPDIR (a test's cleanup scope, test/helpers/scope.ts) does not exist in the chroot:
# its own tmpfs /tmp is the temp dir there (ostree's O_TMPFILE fails on a missing TMPDIR).
unset TMPDIR
exec chroot "$d" "$@"
