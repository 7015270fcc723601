#!/usr/bin/env bash
# Makes the Sources of packaging/alt/alt-updated.spec from a built tree (docs/usage/install.md):
#   OUTDIR/alt-updated-VERSION.tar  the tree scripts/install.sh needs, with the compiled dist/src
#                                   and only the runtime node_modules (what install.sh would ship)
#   OUTDIR/alt-updated.sysusers     the sysusers.d file, for %sysusers_create_package
#
#   packaging/alt/make-source.sh OUTDIR
set -euo pipefail
(($# == 1)) || { echo "usage: packaging/alt/make-source.sh OUTDIR" >&2; exit 2; }
OUT="$(mkdir -p "$1" && cd "$1" && pwd)"
cd "$(dirname "$0")/../.."
VERSION="$(node -p 'require("./package.json").version')"
NAME="alt-updated-$VERSION"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

# The runtime node_modules are taken from an install, so the rule for what ships is install.sh's alone.
scripts/install.sh --destdir "$STAGE/root" --node /usr/bin/node >/dev/null
mkdir -p "$STAGE/$NAME"
tar -cf - README.md package.json package-lock.json docs src systemd packaging scripts/install.sh \
  --exclude='*.map' dist/src | tar -xf - -C "$STAGE/$NAME"
mv "$STAGE/root/usr/lib/alt-updated/node_modules" "$STAGE/$NAME/node_modules"
tar -cf "$OUT/$NAME.tar" -C "$STAGE" --owner=0 --group=0 --sort=name "$NAME"
install -m 0644 systemd/sysusers.d/alt-updated.conf "$OUT/alt-updated.sysusers"
echo "$OUT/$NAME.tar"
