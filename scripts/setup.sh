#!/usr/bin/env bash
# Installs what alt-updated needs on a fresh Debian 12 machine (as root, or through sudo), then the
# npm dependencies from the lock file and the build. Idempotent: packages already present are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the real-component tests, the demo and the benchmarks run against.
PKGS=(
  ostree            # repos, sysroots, admin deploy --stage: the backend's real work
  dbus              # private dbus-daemon for every D-Bus test and the demo
  python3-gi        # GLib conformance peer (rpm-ostree's own client library is GLib)
  gir1.2-glib-2.0
  gir1.2-ostree-1.0 # Rollback helper (write_deployments), ostree admin has no rollback in 2022.7
  libglib2.0-bin    # gdbus, for manual checks
  etcd-server       # FleetLock etcd store tests (single member and 3-member cluster)
  prometheus        # promtool check metrics
  util-linux        # unshare for the fake-booted sysroot namespace
  systemd           # systemd-analyze verify/security for the unit files
  wrk               # loopback load generator for the graph server benchmark
  curl
  openssl           # TLS test certificates for alt-fleetlockd
  stress-ng         # CPU load beside a suite, to check it on a busy machine (docs/development/testing.md)
  rpm               # rpmbuild for the ALT spec in packaging/alt (test/integration/packaging)
  skopeo            # pulls/pushes/signs OCI images: the bootc stand-in (test/stand-ins/bootc), the oci graph tests
  docker-registry   # a real OCI registry on 127.0.0.1 (test/helpers/oci-registry.ts)
  systemd-container # systemd-nspawn: the real nodes of test/e2e (run by npm test after the others; test/realnode)
  debootstrap       # the Debian rootfs of the real-node image (built once, cached)
  chromium          # headless render check of the simulator's --plot SVG (test/integration/simulator)
  fonts-dejavu-core # a font for that render (the plot's labels)
  qemu-system-x86   # npm run test:qemu only: the TCG VM smoke test of the real-node image (test/qemu; not in npm test)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node >= 20.18 is required (engines in package.json).
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<18)) { console.error("setup: Node >= 20.18 required, found "+process.versions.node); process.exit(1) }'

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
