#!/usr/bin/env bash
# Installs a built alt-updated tree at its FHS paths below DESTDIR, as a package does
# (docs/usage/install.md). The ALT RPM spec (packaging/alt/alt-updated.spec) runs it in %install, and
# the test nodes are built from it, so what the tests boot is what a package installs.
#
#   scripts/install.sh --destdir DIR [--node PATH]
#
# Needs the build (`npm run build`: dist/src) and node_modules (`npm ci`); works offline: the
# runtime dependencies are copied out of node_modules by the lock file, never downloaded.
set -euo pipefail

usage() {
  echo "usage: scripts/install.sh --destdir DIR [--node PATH]" >&2
  echo "  --destdir DIR  root to install into (/ for the running system)" >&2
  echo "  --node PATH    node the /usr/bin launchers exec (default: /usr/bin/node)" >&2
  exit 2
}

DESTDIR=""
NODE_BIN="/usr/bin/node"
while (($#)); do
  case "$1" in
    --destdir) (($# >= 2)) || usage; DESTDIR="$2"; shift 2 ;;
    --destdir=*) DESTDIR="${1#*=}"; shift ;;
    --node) (($# >= 2)) || usage; NODE_BIN="$2"; shift 2 ;;
    --node=*) NODE_BIN="${1#*=}"; shift ;;
    -h|--help) usage ;;
    *) echo "install.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[ -n "$DESTDIR" ] || { echo "install.sh: --destdir is required" >&2; usage; }
# Written unquoted into the launchers: an absolute path of plain characters only.
[[ "$NODE_BIN" =~ ^/[A-Za-z0-9/._+-]+$ ]] || { echo "install.sh: --node must be an absolute path without spaces or shell characters, got '$NODE_BIN'" >&2; exit 2; }

SRC="$(cd "$(dirname "$0")/.." && pwd)"
cd "$SRC"
# The node running this script reads package.json and the lock file; the installed launchers use
# NODE_BIN, which need not exist on the build host.
BUILD_NODE="$(command -v node || true)"
[ -n "$BUILD_NODE" ] || { echo "install.sh: node is needed to read package.json and package-lock.json" >&2; exit 1; }
[ -f dist/src/agent/main.js ] || { echo "install.sh: $SRC/dist/src is missing: run 'npm run build' first" >&2; exit 1; }
[ -d node_modules ] || { echo "install.sh: $SRC/node_modules is missing: run 'npm ci' first" >&2; exit 1; }

# FHS paths (docs/usage/install.md). Kept in one place; the spec's %files list names the same paths.
D="${DESTDIR%/}"
BINDIR=/usr/bin
LIBDIR=/usr/lib/alt-updated
UNITDIR=/usr/lib/systemd/system
SYSUSERSDIR=/usr/lib/sysusers.d
TMPFILESDIR=/usr/lib/tmpfiles.d
DBUSPOLICYDIR=/usr/share/dbus-1/system.d
DBUSSERVICEDIR=/usr/share/dbus-1/system-services
DOCDIR=/usr/share/doc/alt-updated
DATADIR=/usr/share/alt-updated
CONFDIR=/etc/alt-updated

# Code: the compiled modules without source maps (they point at src/*.ts, which is not shipped),
# plus the non-TypeScript files under src/ the modules read next to themselves (rpmostree1.xml).
install -d -m 0755 "$D$LIBDIR" "$D$LIBDIR/dist"
install -m 0644 package.json "$D$LIBDIR/package.json"
rm -rf "$D$LIBDIR/dist/src" "$D$LIBDIR/node_modules"
# copy_into DIR: copies the NUL-separated file paths on stdin (relative to the current directory)
# into DIR as one tar stream (a process per file takes seconds); modes are normalised below.
copy_into() { tar -cf - --null --no-recursion -T - | tar -xf - --no-same-owner -C "$1"; }
(cd dist && find src -type f -name '*.js' -print0 | copy_into "$D$LIBDIR/dist")
find src -type f ! -name '*.ts' -print0 | copy_into "$D$LIBDIR/dist"

# Runtime dependencies: the lock file's non-dev packages, each without its nested node_modules (those
# are entries of their own). Optional packages are left out: the only one, dbus-next's native
# `usocket`, is not needed (D-Bus over plain unix sockets), and without it the payload has no native
# code (noarch).
"$BUILD_NODE" -e '
  const lock = JSON.parse(require("fs").readFileSync("package-lock.json", "utf8"));
  if (!(lock.lockfileVersion >= 2)) { console.error("install.sh: package-lock.json: lockfileVersion >= 2 needed"); process.exit(1); }
  for (const [path, p] of Object.entries(lock.packages ?? {})) {
    if (path.startsWith("node_modules/") && !p.dev && !p.devOptional && !p.optional && !p.link) console.log(path);
  }' | while IFS= read -r pkg; do
  [ -f "$pkg/package.json" ] || { echo "install.sh: $pkg is in package-lock.json but not installed: run 'npm ci'" >&2; exit 1; }
  find "$pkg" -path "$pkg/node_modules" -prune -o -type f -print0
done | copy_into "$D$LIBDIR"
[ -d "$D$LIBDIR/node_modules" ] || { echo "install.sh: no runtime dependency was installed" >&2; exit 1; }
if [ -n "$(find "$D$LIBDIR/node_modules" -name '*.node' -print -quit)" ]; then
  echo "install.sh: a native addon (*.node) was installed; the package is meant to be noarch" >&2
  exit 1
fi
find "$D$LIBDIR" -type d -exec chmod 0755 {} +
find "$D$LIBDIR" -type f -exec chmod 0644 {} +

# Launchers: sh scripts that exec NODE_BIN with each program's node flags (read from its own
# `#!/usr/bin/env [-S] node FLAGS` line, so the flags have one source) and the installed module.
# A launcher rather than a symlink: the agent's flags need `env -S`, and NODE_BIN is fixed here.
install -d -m 0755 "$D$BINDIR"
"$BUILD_NODE" -e '
  const bin = JSON.parse(require("fs").readFileSync("package.json", "utf8")).bin;
  for (const [name, js] of Object.entries(bin)) console.log(name + " " + js);' | while read -r name js; do
  first="$(head -n 1 "$js")"
  case "$first" in
    "#!/usr/bin/env -S node"*) flags="${first#"#!/usr/bin/env -S node"}" ;;
    "#!/usr/bin/env node"*) flags="${first#"#!/usr/bin/env node"}" ;;
    *) echo "install.sh: $js: first line is not '#!/usr/bin/env [-S] node ...'" >&2; exit 1 ;;
  esac
  flags="${flags# }"
  {
    echo '#!/bin/sh'
    echo "# $name: installed by alt-updated's scripts/install.sh (docs/usage/install.md)."
    echo "exec $NODE_BIN ${flags:+$flags }$LIBDIR/$js \"\$@\""
  } >"$D$BINDIR/$name.tmp"
  chmod 0755 "$D$BINDIR/$name.tmp"
  mv -f "$D$BINDIR/$name.tmp" "$D$BINDIR/$name"
done

# systemd, D-Bus, sysusers, tmpfiles, default configuration.
for f in systemd/system/*; do install -D -m 0644 "$f" "$D$UNITDIR/$(basename "$f")"; done
for f in systemd/dbus-1/system.d/*; do install -D -m 0644 "$f" "$D$DBUSPOLICYDIR/$(basename "$f")"; done
for f in systemd/dbus-1/system-services/*; do install -D -m 0644 "$f" "$D$DBUSSERVICEDIR/$(basename "$f")"; done
install -D -m 0644 systemd/sysusers.d/alt-updated.conf "$D$SYSUSERSDIR/alt-updated.conf"
install -D -m 0644 systemd/tmpfiles.d/alt-updated.conf "$D$TMPFILESDIR/alt-updated.conf"
install -d -m 0755 "$D$LIBDIR/config.d"
for f in systemd/config.d/*.toml; do install -m 0644 "$f" "$D$LIBDIR/config.d/$(basename "$f")"; done
# /etc: the admin's fragment directory, and alt-ostreed's configuration authorising the agent's user
# (without it the backend refuses the agent: "RegisterClient is not allowed for uid N"). Kept if the
# admin has one already (a package marks it %config(noreplace)).
install -d -m 0755 "$D$CONFDIR" "$D$CONFDIR/config.d"
[ -e "$D$CONFDIR/alt-ostreed.toml" ] || install -m 0644 packaging/alt-ostreed.toml "$D$CONFDIR/alt-ostreed.toml"

# Documentation: what the units' Documentation= and the CLI point at.
install -D -m 0644 README.md "$D$DOCDIR/README.md"
# Every file below docs/usage and docs/reference, subdirectories too (docs/usage/images).
for sub in usage reference; do
  (cd docs && find "$sub" -type f -print0) | while IFS= read -r -d '' f; do install -D -m 0644 "docs/$f" "$D$DOCDIR/$f"; done
done
install -m 0644 docs/org.altlinux.Updated1.xml "$D$DOCDIR/org.altlinux.Updated1.xml"

# Prometheus alerting rules (docs/usage/metrics.md): data, not documentation, so a --nodocs install keeps them.
install -D -m 0644 packaging/prometheus/alt-updated.rules.yml "$D$DATADIR/prometheus/alt-updated.rules.yml"
