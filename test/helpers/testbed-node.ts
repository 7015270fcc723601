// A whole simulated node for end-to-end runs (agent integration tests, the demo, the fleet tests):
// its own private system bus, a fake-booted real ostree sysroot, the real alt-ostreed, the real agent
// process, and -- the one thing that cannot run here -- a logind stand-in (fakeLogindForTest).
// A "reboot" is the backend's reboot hook (fakeboot-reboot.sh: finalize-staged, fresh /run, boot the
// new default); `powerCycleIfRebooted` then restarts the node's services as a real boot would.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { fakeLogindForTest, type FakeLogind } from '../integration/operator/fake-logind.js';
import { startBackend, type RunningBackend } from './alt-ostreed.js';
import { startPrivateBus, type PrivateBus } from './dbus-daemon.js';
import { trackProcess } from './scope.js';
import { ostree } from './ostree-repo.js';
import { createSysroot, type TestSysroot } from './sysroot.js';
import type { BootcTestHost } from './bootc-host.js';

/** The agent entry point in dist/ (works from test/helpers under vitest and from dist/test/helpers). */
export const ALT_UPDATED = [
  fileURLToPath(new URL('../../dist/src/agent/main.js', import.meta.url)),
  fileURLToPath(new URL('../../src/agent/main.js', import.meta.url)),
].find((p) => p.includes('/dist/') && existsSync(p))!;

/** The boot health runner's entry point in dist/ (alt-updated-health.service's ExecStart). */
export const ALT_UPDATED_HEALTH = [
  fileURLToPath(new URL('../../dist/src/health/main.js', import.meta.url)),
  fileURLToPath(new URL('../../src/health/main.js', import.meta.url)),
].find((p) => p.includes('/dist/') && existsSync(p)) ?? 'dist/src/health/main.js';

/**
 * The node flags the agent's `#!/usr/bin/env -S node ...` line gives it when installed, so tests,
 * the demo and the benchmark run it as systemd does.
 */
export const ALT_UPDATED_NODE_ARGS: readonly string[] = shebangNodeArgs(readFileSync(ALT_UPDATED, 'utf8'));

/** The arguments after `node` in a `#!/usr/bin/env [-S] node ARGS` first line; [] for other lines. */
export function shebangNodeArgs(source: string): string[] {
  const m = /^#!\/usr\/bin\/env (?:-S )?node((?: +\S+)*) *$/.exec(source.split('\n', 1)[0]!);
  return m?.[1]?.split(' ').filter(Boolean) ?? [];
}

/** One parsed agent log record (`--log-format json`). */
export interface AgentRecord {
  readonly level: number;
  readonly msg: string;
  readonly event?: string;
  readonly [key: string]: unknown;
}

/** What a testbed node boots: an ostree ref from an archive repo, or an installed bootc host. */
export type TestbedBoot =
  | {
      /** Archive repo URL on 127.0.0.1. */
      readonly repoUrl: string;
      /** Ref to boot from, e.g. `altcos/x86_64/sisyphus`. */
      readonly ref: string;
      /** Commit to boot first (default: the ref's head). */
      readonly commit?: string;
    }
  | {
      /**
       * A fake-booted bootc host (test/helpers/bootc-host.ts), booted from an OCI image: alt-ostreed
       * runs its bootc driver on it. The node owns it from here (destroy() removes it).
       */
      readonly bootcHost: BootcTestHost;
    };

/**
 * Reads a child's JSON log lines (stdout and stderr) into records; a line that is not JSON becomes
 * an error-level record with the line as its message, so nothing the process says is lost.
 */
function readRecords(child: ChildProcess & { stdout: Readable; stderr: Readable }, onRecord: (rec: AgentRecord) => void): void {
  let buf = '';
  const onData = (chunk: string): void => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      let rec: AgentRecord;
      try {
        rec = JSON.parse(line) as AgentRecord;
      } catch {
        rec = { level: 50, msg: line };
      }
      onRecord(rec);
    }
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
}

/** Options of {@link createTestbedNode}. */
export type TestbedNodeOptions = TestbedBoot & {
  /** Short name used in logs (`node1`). */
  readonly name: string;
  /** Extra TOML for the agent's `config.d/50-testbed.toml` (base URL, strategy, timing). */
  readonly configToml: string;
  /** Called with every agent record as it arrives. */
  readonly onRecord?: (node: string, rec: AgentRecord) => void;
  /** Extra environment for the agent process (e.g. NOTIFY_SOCKET for a listener). */
  readonly agentEnv?: Readonly<Record<string, string>>;
  /** Node flags for the agent; default: its shebang's ({@link ALT_UPDATED_NODE_ARGS}). Read at every start. */
  readonly agentNodeArgs?: readonly string[];
  /**
   * Run `alt-updated-health` at every boot before the agent, as alt-updated-health.service does
   * (Before= and RequiredBy=boot-complete.target): the agent starts only when it exits 0, and a
   * reboot it asks for power-cycles the node again. Default false.
   */
  readonly health?: boolean;
  /** Extra environment for the health runs (e.g. NOTIFY_SOCKET for a listener). */
  readonly healthEnv?: Readonly<Record<string, string>>;
};

/** One boot-time run of `alt-updated-health` on a testbed node. */
export interface HealthRun {
  /** Its exit code (0: the boot is healthy and the agent started). */
  readonly code: number | null;
  /** Its log records. */
  readonly records: AgentRecord[];
}

/** A running simulated node. */
export interface TestbedNode {
  readonly name: string;
  readonly sysroot: TestSysroot;
  readonly bus: PrivateBus;
  /** The agent's `--root`. */
  readonly root: string;
  /** The node's machine id (the FleetLock id is derived from it). */
  readonly machineId: string;
  /** Every agent record so far, across restarts. */
  readonly records: AgentRecord[];
  /** The logind stand-in: tests add sessions or block inhibitors by mutating it. */
  readonly logind: FakeLogind;
  /** Starts (or restarts) alt-ostreed and the agent. */
  start(): Promise<void>;
  /** The agent process, or null. */
  agent(): ChildProcess | null;
  /** Stops the agent with SIGTERM (or SIGKILL) and waits. */
  stopAgent(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the agent again (backend untouched). */
  startAgent(): Promise<void>;
  /** Kills alt-ostreed with SIGKILL and starts it again. */
  restartBackend(): Promise<void>;
  /** When the backend's reboot hook ran since the last call: stop services, start them again; true then. */
  powerCycleIfRebooted(): Promise<boolean>;
  /** Version of the booted deployment. */
  bootedVersion(): Promise<string>;
  /** Simulated reboots so far. */
  reboots(): Promise<number>;
  /** Health runs so far (with `health: true`), one per boot. */
  readonly healthRuns: HealthRun[];
  /** The child of the health run in progress, or null (to kill it in tests). */
  healthChild(): ChildProcess | null;
  /** Stops everything and removes the node's files. */
  destroy(): Promise<void>;
}

/** Builds and boots a node; call `start()` to run its services. */
export async function createTestbedNode(o: TestbedNodeOptions): Promise<TestbedNode> {
  const bus = await startPrivateBus();
  const logind: FakeLogind = await fakeLogindForTest(bus.address, []);
  const sysroot: TestSysroot = 'bootcHost' in o ? o.bootcHost : await createSysroot({ repoUrl: o.repoUrl, ref: o.ref, ...(o.commit ? { commit: o.commit } : {}) });
  // The bootc driver, forced and pointed at the host's bootc and policy, on an image host.
  const backendOptions = {
    busAddress: bus.address,
    sysroot,
    ...('bootcHost' in o ? { extraConfig: `[bootc]\ndriver = "auto"\npath = ${JSON.stringify(o.bootcHost.bootc)}\npolicy = ${JSON.stringify(o.bootcHost.policy)}` } : {}),
  };
  const root = join(sysroot.stateDir, 'agent-root');
  const machineId = randomBytes(16).toString('hex');
  await mkdir(join(root, 'etc/alt-updated/config.d'), { recursive: true });
  await mkdir(join(root, 'run/alt-updated/public'), { recursive: true });
  await mkdir(join(root, 'run/motd.d'), { recursive: true });
  await mkdir(join(root, 'proc'), { recursive: true });
  await writeFile(join(root, 'etc/machine-id'), `${machineId}\n`);
  await writeFile(join(root, 'proc/cmdline'), 'BOOT_IMAGE=/vmlinuz root=UUID=0 rw\n');
  // A fresh boot id per simulated boot, as the kernel gives one (the health verdict counts boots by it).
  const newBootId = async (): Promise<void> => {
    await mkdir(join(root, 'proc/sys/kernel/random'), { recursive: true });
    await writeFile(join(root, 'proc/sys/kernel/random/boot_id'), `${randomUUID()}\n`);
  };
  await newBootId();
  await writeFile(join(root, 'etc/os-release'), 'NAME="ALT Container OS"\nID=altcos\nID_LIKE=altlinux\nALT_BRANCH_ID=sisyphus\n');
  await writeFile(join(root, 'etc/alt-updated/config.d/50-testbed.toml'), o.configToml);

  const records: AgentRecord[] = [];
  let backend: RunningBackend | null = null;
  let agent: ChildProcess | null = null;
  let agentExit: Promise<void> = Promise.resolve();
  let seenReboots = 0;
  const healthRuns: HealthRun[] = [];
  let healthChild: ChildProcess | null = null;

  /** One `alt-updated-health` run, as systemd runs the oneshot before boot-complete.target. */
  const runHealth = async (): Promise<number | null> => {
    const recs: AgentRecord[] = [];
    const child = spawn(process.execPath, [ALT_UPDATED_HEALTH, '--root', root, '--bus-address', bus.address, '--log-format', 'json', '--log-level', 'debug', '--reboot-command', JSON.stringify(sysroot.rebootCommand)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: '', ...o.healthEnv },
    });
    trackProcess(child);
    healthChild = child;
    readRecords(child, (rec) => {
      recs.push(rec);
      o.onRecord?.(`${o.name}/health`, rec);
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    healthChild = null;
    healthRuns.push({ code, records: recs });
    return code;
  };

  const startAgent = async (): Promise<void> => {
    const child = spawn(process.execPath, [...(o.agentNodeArgs ?? ALT_UPDATED_NODE_ARGS), ALT_UPDATED, '--root', root, '--bus-address', bus.address, '--log-format', 'json', '--log-level', 'debug'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: '', ...o.agentEnv },
    });
    trackProcess(child);
    agent = child;
    // 'close', not 'exit': the last log records of a killed agent are read before stopAgent resolves.
    agentExit = new Promise<void>((resolve) => child.once('close', () => resolve()));
    readRecords(child, (rec) => {
      records.push(rec);
      o.onRecord?.(o.name, rec);
    });
    await Promise.resolve();
  };
  const stopAgent = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const a = agent;
    if (a !== null && a.exitCode === null && a.signalCode === null) a.kill(signal);
    await agentExit;
    agent = null;
  };
  const stopBackend = async (): Promise<void> => {
    await backend?.stop();
    backend = null;
  };
  const node: TestbedNode = {
    name: o.name,
    sysroot,
    bus,
    root,
    machineId,
    records,
    logind,
    async start() {
      await stopAgent();
      await stopBackend();
      backend = await startBackend(backendOptions);
      if (o.health === true) {
        // Boots until one does not reboot itself (bounded: a boot loop is a test failure).
        for (let boot = 0; ; boot++) {
          if (boot > 10) throw new Error(`${o.name}: the health run rebooted more than 10 times in a row`);
          const code = await runHealth();
          const n = await sysroot.rebootCount();
          if (n !== seenReboots) {
            seenReboots = n;
            await stopBackend();
            await newBootId();
            backend = await startBackend(backendOptions);
            continue;
          }
          // RequiredBy=boot-complete.target: an unhealthy boot never starts the agent.
          if (code !== 0) return;
          break;
        }
      }
      await startAgent();
    },
    agent: () => agent,
    stopAgent,
    startAgent,
    async restartBackend() {
      await backend?.kill();
      backend = await startBackend(backendOptions);
    },
    async powerCycleIfRebooted() {
      const n = await sysroot.rebootCount();
      if (n === seenReboots) return false;
      seenReboots = n;
      await newBootId();
      await node.start();
      return true;
    },
    async bootedVersion() {
      const checksum = await sysroot.bootedChecksum();
      return ostree([`--repo=${join(sysroot.path, 'ostree/repo')}`, 'show', '--print-metadata-key=version', checksum]).then((v) => v.replace(/^'|'$/g, ''));
    },
    reboots: () => sysroot.rebootCount(),
    healthRuns,
    healthChild: () => healthChild,
    async destroy() {
      await stopAgent('SIGKILL');
      await backend?.kill();
      logind.stop();
      await bus.stop();
      await sysroot.destroy();
    },
  };
  return node;
}
