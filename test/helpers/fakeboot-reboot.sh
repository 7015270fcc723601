#!/bin/sh
# Simulated reboot of a fake-booted test sysroot (the reboot hook alt-ostreed runs in tests and the demo).
#
# usage: fakeboot-reboot.sh STATE_DIR
#
# 1. runs `ostree admin finalize-staged` inside the fake boot, as ostree-finalize-staged.service does at
#    shutdown (a locked staged deployment stays unfinalized, exactly as on a real host);
# 2. empties the run directory (a fresh /run) and recreates ostree-booted;
# 3. "boots" the new default deployment: the first one in `ostree admin status` order.
# Every call appends a line to STATE_DIR/reboots.log.
set -eu
state=$1
here=$(dirname "$0")
"$here/fakeboot.sh" "$state" ostree admin finalize-staged
sysroot=$(cat "$state/sysroot-path")
# Outside the namespace nothing is booted, so status lists deployments in boot order without markers.
first=$(ostree admin status --sysroot="$sysroot" | awk '/^[ *] [^ ]/ { print $1, $2; exit }')
os=${first% *}
dep=${first#* }
[ -n "$os" ] && [ -n "$dep" ] || { echo "fakeboot-reboot: no deployment to boot" >&2; exit 1; }
# Exclusive against every fakeboot.sh command (they hold the lock shared): the "power cut".
exec 9>>"$state/fakeboot.lock"
flock -x 9
find "$state/run" -mindepth 1 -delete
: > "$state/run/ostree-booted"
printf '%s\n' "ostree/deploy/$os/deploy/$dep" > "$state/booted.new"
mv "$state/booted.new" "$state/booted"
printf '%s\n' "$dep" >> "$state/reboots.log"
