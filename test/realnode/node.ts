// One real node: its own copy of the image's sysroot, its own network namespace on the test bridge,
// and a boot loop that runs nspawn-boot.sh (the bootloader) again whenever the container exits 133
// (a reboot). Inside, real systemd runs the installed units; the test drives the node with
// `nsenter` into the container's namespaces (machinectl needs machined on the host, which is absent).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackProcess } from '../helpers/scope.js';
import { requireSignatures, type SigningKey } from '../helpers/signing.js';
import { diagnoseNode } from './diagnose.js';
import { guestArgv, run, type RunResult } from './exec.js';
import { readIfExists, statusField } from './proc.js';
import { REALNODE_OSNAME, type RealNodeImage } from './image.js';
import type { NodeLink, RealNodeNetwork } from './network.js';

/** The bootloader wrapper (a shell script beside this file; tsc does not copy it into dist/). */
export const NSPAWN_BOOT = fileURLToPath(new URL('./nspawn-boot.sh', import.meta.url)).replace('/dist/test/realnode/', '/test/realnode/');
/** How long a container gets to shut down on SIGTERM before it is killed. */
const STOP_GRACE_MS = 20_000;

/** One boot of the node. */
export interface Boot {
  readonly index: number;
  readonly startedAt: number;
  /** The container's PID 1 as seen from the host, once found. */
  leader: number | null;
  /** When {@link RealNode.waitBooted} saw this boot's start-up finished (null before). */
  readyAt: number | null;
  /** nspawn's exit code (133: rebooted), null while it runs. */
  exitCode: number | null;
  endedAt: number | null;
}

/** Options of {@link createRealNode}. */
export interface RealNodeOptions {
  readonly image: RealNodeImage;
  readonly network: RealNodeNetwork;
  /** Node number on the network, 1..200. */
  readonly index: number;
  /** Host name and nspawn machine name. */
  readonly name: string;
  /** The release repo's URL (on the network's host address); unused with {@link bootFrom}. */
  readonly repoUrl?: string;
  /** The test's release key: the node's remote trusts it, and the first release carries its signature; unused with {@link bootFrom}. */
  readonly trusted?: SigningKey;
  /**
   * A node whose first deployment is not the image's ostree release: `skeleton` (a sysroot) is copied
   * instead of the image's, and `install` makes the first deployment in the copy (test/realnode/oci.ts:
   * the bootc stand-in installing an OCI image).
   */
  readonly bootFrom?: { readonly skeleton: string; install(sysroot: string): Promise<void> };
  /** The agent's `/etc/alt-updated/config.d/50-realnode.toml`. */
  readonly configToml: string;
  /** Drop-ins for units, by unit name (written as `/etc/systemd/system/<unit>.d/50-realnode.conf`). */
  readonly unitDropIns?: Readonly<Record<string, string>>;
  /**
   * Symbolic links in the node's `/etc` (path relative to `/etc` → target), e.g. what `systemctl
   * enable` makes: `systemd/system/boot-complete.target.requires/alt-updated-health.service`.
   */
  readonly etcLinks?: Readonly<Record<string, string>>;
}

/** A real node. */
export interface RealNode {
  readonly name: string;
  readonly link: NodeLink;
  readonly sysroot: string;
  /** Every boot so far, the current one last. */
  readonly boots: readonly Boot[];
  /** Starts the boot loop. */
  start(): Promise<void>;
  /** Waits until boot number `n` (1-based) reached a finished start-up (`is-system-running --wait`). */
  waitBooted(n: number, timeoutMs?: number): Promise<void>;
  /**
   * Runs `cmd` inside the running container; resolves with its output and exit code. It is killed
   * after `timeoutMs` (default {@link EXEC_TIMEOUT_MS}): a wedged command fails its wait, never hangs it.
   */
  exec(cmd: readonly string[], opts?: { check?: boolean; timeoutMs?: number }): Promise<RunResult>;
  /** Contents of `/usr/share/realnode-version` in the booted deployment. */
  bootedVersion(): Promise<string>;
  /**
   * What the node is doing, for a failed wait ({@link diagnoseNode}): its container's PID 1 as the
   * host sees it, the units, the agent's event history, the last journal lines, the processes and
   * `ostree admin status`. Each command is bounded; it never throws.
   */
  diagnose(): Promise<string>;
  /** The last `lines` lines of the node's console. */
  consoleTail(lines?: number): string;
  /** Stops the boot loop and the container (SIGTERM: a clean poweroff; SIGKILL after a grace). */
  stop(): Promise<void>;
  /** Stops the node and removes its files. */
  destroy(): Promise<void>;
}

/** The cgroup name nspawn-boot.sh gives the node booted from `sysroot` (md5 of its real path). */
function cgroupName(sysroot: string): string {
  return `altrn-${createHash('md5').update(realpathSync(sysroot)).digest('hex').slice(0, 16)}`;
}

/** The container's PID 1 below nspawn `pid`: the descendant whose innermost pid is 1. */
function containerLeader(pid: number): number | null {
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    const nspid = statusField(p, 'NSpid');
    if (nspid === null) continue; // gone meanwhile
    const ns = nspid.split(/\s+/);
    if (p !== pid && ns.length >= 2 && ns[ns.length - 1] === '1') return p;
    for (const t of safeReaddir(`/proc/${p}/task`)) {
      const kids = readIfExists(`/proc/${p}/task/${t}/children`).trim();
      if (kids) queue.push(...kids.split(/\s+/).map(Number));
    }
  }
  return null;
}
const safeReaddir = (d: string): string[] => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};

/**
 * Kills the containers of nodes whose nspawn is gone (a test run killed outright: its cleanup ends
 * nspawn, and a container whose nspawn died keeps running, re-parented to PID 1). Such a container's
 * PID 1 has parent 1 and its root in a node's sysroot copy; SIGKILL to it ends the whole container.
 */
export function sweepOrphanContainers(): void {
  for (const name of safeReaddir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const ns = statusField(pid, 'NSpid')?.split(/\s+/) ?? [];
    if (ns.length < 2 || ns[ns.length - 1] !== '1' || statusField(pid, 'PPid') !== '1') continue;
    let root: string;
    try {
      root = readlinkSync(`/proc/${pid}/root`);
    } catch {
      continue;
    }
    if (!root.includes('/altrn-node-')) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** How long a command inside the node may run unless its caller says otherwise. */
export const EXEC_TIMEOUT_MS = 120_000;

/** A clean environment for commands inside the container (the host's would leak in through nsenter). */
const GUEST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' };

/** Copies the image's sysroot for a node, points its remote at `repoUrl`, writes its /etc; does not boot it. */
export async function createRealNode(o: RealNodeOptions): Promise<RealNode> {
  sweepOrphanContainers();
  const dir = await mkdtemp(join(tmpdir(), 'altrn-node-'));
  const sysroot = join(dir, 'sysroot');
  const consoleLog = join(dir, 'console.log');
  await run('cp', ['-a', '--reflink=auto', o.bootFrom?.skeleton ?? o.image.sysroot, sysroot]);
  if (o.bootFrom !== undefined) await o.bootFrom.install(sysroot);
  else {
    if (o.repoUrl === undefined || o.trusted === undefined) throw new Error(`${o.name}: createRealNode needs repoUrl and trusted (or bootFrom)`);
    const repo = join(sysroot, 'ostree/repo');
    await run('ostree', [`--repo=${repo}`, 'config', 'set', `remote "${REALNODE_OSNAME}".url`, o.repoUrl]);
    await requireSignatures(repo, REALNODE_OSNAME, [o.trusted]);
    // The first release came from the cache unsigned; give it the signature a pull from the test's repo
    // would have brought (`ostree admin status` refuses a booted commit without one on a verifying remote).
    await o.trusted.sign(repo, o.image.baseCommit);
  }
  const deployRoot = join(sysroot, 'ostree/deploy', REALNODE_OSNAME, 'deploy');
  const [deployment] = (await readdir(deployRoot)).filter((d) => d.endsWith('.0'));
  const etc = join(deployRoot, deployment!, 'etc');
  await writeFile(join(etc, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
  await writeFile(join(etc, 'hostname'), `${o.name}\n`);
  await mkdir(join(etc, 'alt-updated/config.d'), { recursive: true });
  await writeFile(join(etc, 'alt-updated/config.d/50-realnode.toml'), o.configToml);
  for (const [unit, text] of Object.entries(o.unitDropIns ?? {})) {
    await mkdir(join(etc, 'systemd/system', `${unit}.d`), { recursive: true });
    await writeFile(join(etc, 'systemd/system', `${unit}.d/50-realnode.conf`), text);
  }
  for (const [rel, target] of Object.entries(o.etcLinks ?? {})) {
    await mkdir(dirname(join(etc, rel)), { recursive: true });
    await symlink(target, join(etc, rel));
  }
  const link = await o.network.attach(o.index);

  const boots: Boot[] = [];
  let child: ChildProcess | null = null;
  let stopping = false;
  let loopDone: Promise<void> = Promise.resolve();

  const bootOnce = (finish: () => void): void => {
    const out = openSync(consoleLog, 'a');
    const boot: Boot = { index: boots.length + 1, startedAt: Date.now(), leader: null, readyAt: null, exitCode: null, endedAt: null };
    boots.push(boot);
    const c = spawn(NSPAWN_BOOT, [sysroot, o.name, `--network-namespace-path=${link.netnsPath}`], { stdio: ['ignore', out, out] });
    closeSync(out);
    trackProcess(c);
    child = c;
    c.once('exit', (code, signal) => {
      boot.exitCode = code ?? (signal ? -1 : 0);
      boot.endedAt = Date.now();
      child = null;
      if (code === 133 && !stopping) bootOnce(finish);
      else finish();
    });
  };
  const current = (): Boot | undefined => boots[boots.length - 1];
  const leader = (): number => {
    const b = current();
    if (b === undefined || b.exitCode !== null || child?.pid === undefined) throw new Error(`${o.name} is not running`);
    b.leader ??= containerLeader(child.pid);
    if (b.leader === null) throw new Error(`${o.name}: the container has not started yet`);
    return b.leader;
  };
  const exec: RealNode['exec'] = (cmd, opts) => run('nsenter', guestArgv(leader(), cmd), { env: GUEST_ENV, ...opts, timeoutMs: opts?.timeoutMs ?? EXEC_TIMEOUT_MS });

  const node: RealNode = {
    name: o.name,
    link,
    sysroot,
    boots,
    async start() {
      stopping = false;
      loopDone = new Promise<void>((resolve) => bootOnce(resolve));
      await Promise.resolve();
    },
    async waitBooted(n, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const b = boots[n - 1];
        if (b !== undefined && b.exitCode !== null) throw new Error(`${o.name}: boot ${n} ended (exit ${b.exitCode}) before it finished starting\n${node.consoleTail()}`);
        if (b !== undefined && boots.length === n) {
          const r = await Promise.resolve()
            // --wait blocks while the system starts: bounded, so a hung start-up meets the deadline.
            .then(() => exec(['systemctl', 'is-system-running', '--wait'], { check: false, timeoutMs: 10_000 }))
            .catch(() => null);
          if (r !== null && /^(running|degraded)$/m.test(r.stdout)) {
            b.readyAt ??= Date.now();
            return;
          }
        }
        if (Date.now() > deadline) {
          if (boots.length < n) throw new Error(`${o.name}: no reboot into boot ${n} within ${timeoutMs} ms, still in boot ${boots.length}\n${await node.diagnose()}`);
          throw new Error(`${o.name}: boot ${n} did not finish starting in ${timeoutMs} ms\n${node.consoleTail()}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    exec,
    async bootedVersion() {
      return (await readFile(`/proc/${leader()}/root/usr/share/realnode-version`, 'utf8')).trim();
    },
    diagnose() {
      let pid1: number | null;
      try {
        pid1 = leader();
      } catch {
        pid1 = current()?.leader ?? null; // a container that ended keeps its last PID 1 in the record
      }
      return diagnoseNode(exec, pid1);
    },
    consoleTail(lines = 40) {
      return readIfExists(consoleLog).split('\n').slice(-lines).join('\n');
    },
    async stop() {
      stopping = true;
      const c = child as ChildProcess | null;
      if (c !== null) {
        c.kill('SIGTERM');
        // After the grace, kill nspawn and the container's PID 1 (which would outlive nspawn).
        const timer = setTimeout(() => {
          const l = current()?.leader ?? (c.pid === undefined ? null : containerLeader(c.pid));
          try {
            if (l !== null && l !== undefined) process.kill(l, 'SIGKILL');
          } catch {
            // Gone already.
          }
          c.kill('SIGKILL');
        }, STOP_GRACE_MS);
        await loopDone;
        clearTimeout(timer);
      }
    },
    async destroy() {
      await node.stop();
      // ostree makes new deployment roots immutable; lift that so the copy can be removed.
      for (const d of safeReaddir(deployRoot)) await run('chattr', ['-i', join(deployRoot, d)], { check: false });
      const cg = cgroupName(sysroot);
      await rm(dir, { recursive: true, force: true });
      // The node's own cgroups (nspawn-boot.sh), empty once the container is gone: children first.
      const sweep = 'for d in $(find /sys/fs/cgroup -maxdepth 4 -type d -name "$1" 2>/dev/null); do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done; true';
      await run('sh', ['-c', sweep, 'sh', cg], { check: false });
    },
  };
  return node;
}
