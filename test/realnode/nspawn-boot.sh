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
# Each node gets its own cgroup. nspawn --keep-unit without a scope puts its supervisor/ and
# payload/ groups right below the caller's cgroup, so nodes booted by one test process all shared
# payload/, and their systemd instances created and removed each other's unit cgroups (units
# failing with 219/CGROUP or 226/NAMESPACE, "Failed to kill control group ... Input/output error").
# The hierarchies systemd inside manages: name=systemd (hybrid hosts) and the cgroup2 one.
# node.ts removes the group when the node is destroyed. Best effort: a host that does not let us
# create it boots the node in the caller's cgroup as before.
cg="altrn-$(printf '%s' "$s" | md5sum | cut -c1-16)"
v2=/sys/fs/cgroup/unified; [ -d "$v2" ] || v2=/sys/fs/cgroup
for h in systemd v2; do
  if [ "$h" = systemd ]; then base=/sys/fs/cgroup/systemd; cur=$(sed -n 's/^[0-9]*:name=systemd:\(.*\)$/\1/p' /proc/self/cgroup)
  else base=$v2; cur=$(sed -n 's/^0::\(.*\)$/\1/p' /proc/self/cgroup); fi
  [ -n "$cur" ] && [ -f "$base$cur/cgroup.procs" ] || continue
  d="$base${cur%/}/$cg"
  { mkdir -p "$d" && echo $$ > "$d/cgroup.procs"; } 2>/dev/null || echo "nspawn-boot: cannot use cgroup $d; booting in the caller's" >&2
done
exec systemd-nspawn -D "$dep" --boot --register=no --keep-unit --machine="$machine" \
  --console=read-only --link-journal=no --resolv-conf=off --timezone=off \
  --bind="$s:/sysroot" --bind="$s/boot:/boot" --bind="$s/ostree/deploy/$os/var:/var" \
  --bind-ro="$dep/usr:/usr" --bind-ro="$s/.run/ostree-booted:/run/ostree-booted" "$@"
