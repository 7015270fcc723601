#!/bin/sh
# The real node's bootloader: boots the newest BLS entry of an ostree sysroot in systemd-nspawn.
#   nspawn-boot.sh SYSROOT MACHINE [NSPAWN-ARGS...]
# It does what ostree-prepare-root does at a real boot (the host kernel's command line has no
# ostree=, so prepare-root, ostree-remount and the generator do not run in the container): the
# deployment is /, its /usr read-only, the sysroot at /sysroot, /boot, the stateroot's /var, and
# /run/ostree-booted. A reboot inside makes nspawn exit 133; the caller's loop boots again (node.ts).
# Recipe: /work/shared/reference/real-node-nspawn.md, "ostree deployment under nspawn".
set -eu
s=$(realpath "$1"); machine=$2; shift 2
best=; bestv=-1
for e in "$s"/boot/loader/entries/*.conf; do
  v=$(awk '$1=="version"{print $2}' "$e")
  if [ "$v" -gt "$bestv" ]; then bestv=$v; best=$e; fi
done
[ -n "$best" ] || { echo "nspawn-boot: no boot entry in $s/boot/loader/entries" >&2; exit 1; }
dep=$(realpath "$s$(sed -n 's/^options .*ostree=\([^ ]*\).*/\1/p' "$best")")
os=$(echo "${dep#"$s"/}" | cut -d/ -f3)
echo "nspawn-boot: $(basename "$best") -> ${dep#"$s"/}" >&2
mkdir -p "$s/.run"; : > "$s/.run/ostree-booted"
exec systemd-nspawn -D "$dep" --boot --register=no --keep-unit --machine="$machine" \
  --console=read-only --link-journal=no --resolv-conf=off --timezone=off \
  --bind="$s:/sysroot" --bind="$s/boot:/boot" --bind="$s/ostree/deploy/$os/var:/var" \
  --bind-ro="$dep/usr:/usr" --bind-ro="$s/.run/ostree-booted:/run/ostree-booted" "$@"
