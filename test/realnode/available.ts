// Whether this machine can run real nodes. A machine that cannot gets one line saying why and what
// to install, and the real-node tests skip; they never fail with a stack trace for a missing tool.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';
import { REALNODE_OSNAME, type RealNodeImage } from './image.js';

/** Host tools the harness runs, and the Debian package of each. */
const TOOLS: ReadonlyArray<readonly [string, string]> = [
  ['systemd-nspawn', 'systemd-container'],
  ['debootstrap', 'debootstrap'],
  ['ostree', 'ostree'],
  ['nsenter', 'util-linux'],
  ['ip', 'iproute2'],
  ['chattr', 'e2fsprogs'],
];

const PREFIX = 'real-node tests skipped: they need systemd-nspawn (apt-get install systemd-container) and debootstrap, as root';

/** Null when the tools are there and we are root; else the one line to print. */
export async function realNodeUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return `${PREFIX}; this run is not root`;
  const missing: string[] = [];
  for (const [tool, pkg] of TOOLS) {
    const r = await run('sh', ['-c', `command -v ${tool}`], { check: false });
    if (r.code !== 0) missing.push(`${tool} (apt-get install ${pkg})`);
  }
  return missing.length > 0 ? `${PREFIX}; missing: ${missing.join(', ')}` : null;
}

/**
 * Null when systemd-nspawn can start a container of `image` here (a read-only container running
 * `/bin/true`, under a second); else the one line to print, with nspawn's own last words.
 */
export async function nspawnProbe(image: RealNodeImage): Promise<string | null> {
  const deployRoot = join(image.sysroot, 'ostree/deploy', REALNODE_OSNAME, 'deploy');
  const [dep] = (await readdir(deployRoot)).filter((d) => d.endsWith('.0'));
  const r = await run(
    'systemd-nspawn',
    ['--quiet', '--register=no', '--keep-unit', '--read-only', '--link-journal=no', '--resolv-conf=off', '--timezone=off', '--private-network', '-D', join(deployRoot, dep!), '/bin/true'],
    { check: false, timeoutMs: 60_000 },
  );
  if (r.code === 0) return null;
  const why = r.stderr.trim().split('\n').slice(-2).join(' / ');
  return `real-node tests skipped: systemd-nspawn cannot start a container on this machine (exit ${r.code}: ${why})`;
}
