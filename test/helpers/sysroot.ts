// Test fixture: a real ostree sysroot in "fake-booted" mode (shared/reference/ostree-test-sysroot.md).
//
// The sysroot is built with the real ostree CLI (init-fs, os-init, remote over loopback HTTP, first
// deploy). Commands given to `exec` run through `fakeboot.sh`: a private mount+pid namespace chrooted
// into the "booted" deployment with a per-test /run holding `ostree-booted`, so ostree's own
// `--stage`, finalization lock file and `finalize-staged` work. Needs root (CAP_SYS_ADMIN).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fixtureSigningKey } from './signing.js';

const run = promisify(execFile);
// The shell helpers live beside the TypeScript source; from dist/test/helpers (demo, benches) use those.
const here = dirname(fileURLToPath(import.meta.url)).replace(/\/dist\/test\/helpers$/, '/test/helpers');
// tsc does not copy shell scripts: from dist/test/helpers, use the ones in the source tree.
const scripts = existsSync(join(here, 'fakeboot.sh')) ? here : join(here, '../../../test/helpers');

/** Absolute path of the fake-boot wrapper (`fakeboot.sh STATE_DIR CMD...`). */
export const FAKEBOOT_WRAPPER = join(scripts, 'fakeboot.sh');
/** Absolute path of the simulated-reboot script (`fakeboot-reboot.sh STATE_DIR`). */
export const FAKEBOOT_REBOOT = join(scripts, 'fakeboot-reboot.sh');

/** Environment that keeps deployment roots mutable so `rm -rf` can remove the sysroot. */
export const MUTABLE_ENV = { OSTREE_SYSROOT_DEBUG: 'mutable-deployments' } as const;

/** Options for {@link createSysroot}. */
export interface SysrootOptions {
  /** Repository URL, e.g. `http://127.0.0.1:PORT` from `serveDir(repo.path)`. */
  readonly repoUrl: string;
  /** Branch the OS follows, e.g. `altcos/x86_64/sisyphus`. */
  readonly ref: string;
  /** Stateroot name. @default "altcos" */
  readonly osname?: string;
  /** Remote name in the sysroot repo. @default osname */
  readonly remote?: string;
  /** Commit to deploy first (pulled as `ref@commit`); default is the ref's head. */
  readonly commit?: string;
  /** Parent directory for the temporary state; default is a fresh dir under the OS temp dir. */
  readonly parent?: string;
}

/** A fake-booted test sysroot. */
export interface TestSysroot {
  /** The sysroot directory (outside view). */
  readonly path: string;
  /** The per-test run directory, mounted as /run inside the fake boot. */
  readonly runDir: string;
  /** State directory given to the wrapper scripts. */
  readonly stateDir: string;
  readonly osname: string;
  readonly remote: string;
  readonly ref: string;
  /** Command prefix making any command run inside the fake boot (`[wrapper, stateDir]`). */
  readonly commandPrefix: readonly string[];
  /** Command that simulates a reboot (finalize-staged, fresh /run, boot the new default). */
  readonly rebootCommand: readonly string[];
  /** Runs `cmd` inside the fake boot; rejects on a non-zero exit. */
  exec(cmd: readonly string[], opts?: { input?: string }): Promise<{ stdout: string; stderr: string }>;
  /** Checksum of the deployment currently "booted". */
  bootedChecksum(): Promise<string>;
  /** Runs `finalize-staged` as at shutdown, empties /run and boots the new default deployment. */
  simulateReboot(): Promise<void>;
  /** How many simulated reboots happened (also those run by the daemon's reboot hook). */
  rebootCount(): Promise<number>;
  /** Removes every file of the sysroot. */
  destroy(): Promise<void>;
}

async function sh(cmd: string, args: readonly string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const child = run(cmd, [...args], { env: { ...process.env, ...MUTABLE_ENV }, maxBuffer: 64 << 20 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  const { stdout, stderr } = await child;
  return { stdout, stderr };
}

/** Builds a sysroot with one deployment of `ref` from `repoUrl` and "boots" it. */
export async function createSysroot(opts: SysrootOptions): Promise<TestSysroot> {
  const osname = opts.osname ?? 'altcos';
  const remote = opts.remote ?? osname;
  const base = await mkdtemp(join(opts.parent ?? tmpdir(), 'alt-sysroot-'));
  const path = join(base, 'sysroot');
  const stateDir = join(base, 'state');
  const runDir = join(stateDir, 'run');
  const repo = join(path, 'ostree/repo');
  await mkdir(path, { recursive: true });
  await mkdir(runDir, { recursive: true });
  // Non-root test clients (an agent running as its own user) must reach the transaction socket here.
  await chmod(base, 0o755);
  await sh('ostree', ['admin', 'init-fs', path]);
  await sh('ostree', ['admin', 'os-init', osname, `--sysroot=${path}`]);
  // Added before the first deploy, so the remote lives in the repo config (visible inside the chroot).
  // Verification on, as shipped: the remote trusts the fixture release key every fixture repo signs with.
  const key = await fixtureSigningKey();
  await sh('ostree', [`--repo=${repo}`, 'remote', 'add', `--gpg-import=${key.publicKeyFile}`, remote, opts.repoUrl, opts.ref]);
  await sh('ostree', [`--repo=${repo}`, 'pull', remote, opts.commit ? `${opts.ref}@${opts.commit}` : opts.ref]);
  await sh('ostree', ['admin', 'deploy', `--sysroot=${path}`, `--os=${osname}`, `${remote}:${opts.ref}`]);
  const checksum = (await sh('ostree', [`--repo=${repo}`, 'rev-parse', `${remote}:${opts.ref}`])).stdout.trim();
  await writeFile(join(stateDir, 'sysroot-path'), `${path}\n`);
  await writeFile(join(stateDir, 'booted'), `ostree/deploy/${osname}/deploy/${checksum}.0\n`);
  await writeFile(join(runDir, 'ostree-booted'), '');
  const commandPrefix = [FAKEBOOT_WRAPPER, stateDir] as const;
  return {
    path,
    runDir,
    stateDir,
    osname,
    remote,
    ref: opts.ref,
    commandPrefix,
    rebootCommand: [FAKEBOOT_REBOOT, stateDir],
    exec: (cmd, o) => sh(FAKEBOOT_WRAPPER, [stateDir, ...cmd], o?.input),
    async bootedChecksum() {
      const rel = (await readFile(join(stateDir, 'booted'), 'utf8')).trim();
      const leaf = rel.split('/').pop() ?? '';
      return leaf.slice(0, leaf.indexOf('.'));
    },
    async simulateReboot() {
      await sh(FAKEBOOT_REBOOT, [stateDir]);
    },
    async rebootCount() {
      try {
        return (await readFile(join(stateDir, 'reboots.log'), 'utf8')).split('\n').filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    async destroy() {
      // Retried like the scope cleanup (scope.ts): a backend still exiting may write one last file
      // into the repo while it is removed (ENOTEMPTY on rmdir; seen once in fleet.test.ts's teardown).
      await rm(base, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}
