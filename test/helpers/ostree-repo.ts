// Test fixture: a real ostree archive repository with deployable trees, served on 127.0.0.1.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile, symlink, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { fixtureSigningKey } from './signing.js';

const run = promisify(execFile);

/** Runs `ostree` with arguments and returns trimmed stdout. */
export async function ostree(args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run('ostree', args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return stdout.trim();
}

/** A commit made by the fixture. */
export interface FixtureCommit {
  readonly ref: string;
  readonly version: string;
  readonly checksum: string;
}

/** A real archive repo in a temporary directory. */
export interface FixtureRepo {
  readonly path: string;
  /** Commits a deployable tree whose os-release carries `version`, updates the summary. */
  commit(opts: { ref: string; version: string; timestamp?: string; metadata?: Record<string, string> }): Promise<FixtureCommit>;
}

/** Writes a minimal deployable OS tree (kernel, os-release, usr/etc, fake-boot dirs and links). */
export async function writeTree(dir: string, version: string, osName = 'altcos'): Promise<void> {
  const kver = '6.1.0-alt1';
  await mkdir(join(dir, 'usr/lib/modules', kver), { recursive: true });
  await writeFile(join(dir, 'usr/lib/modules', kver, 'vmlinuz'), `kernel for ${version}\n`);
  await writeFile(join(dir, 'usr/lib/modules', kver, 'initramfs.img'), `initramfs for ${version}\n`);
  await mkdir(join(dir, 'usr/etc'), { recursive: true });
  await mkdir(join(dir, 'usr/bin'), { recursive: true });
  await mkdir(join(dir, 'usr/lib64'), { recursive: true });
  const osRelease = [
    'NAME="ALT Container OS"',
    `ID=${osName}`,
    'ID_LIKE="altlinux"',
    `VERSION="${version}"`,
    `VERSION_ID=${version}`,
    'ALT_BRANCH_ID=sisyphus',
    `PRETTY_NAME="ALT Container OS ${version}"`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'usr/lib/os-release'), osRelease);
  await writeFile(join(dir, 'usr/etc/hostname'), 'node\n');
  for (const d of ['sysroot', 'boot', 'proc', 'run', 'dev', 'tmp', 'var', 'sys', 'home', 'root', 'mnt']) {
    await mkdir(join(dir, d), { recursive: true });
  }
  await symlink('sysroot/ostree', join(dir, 'ostree'));
  await symlink('usr/bin', join(dir, 'bin'));
  await symlink('usr/lib', join(dir, 'lib'));
  await symlink('usr/lib64', join(dir, 'lib64'));
}

/**
 * Creates an empty archive repo in a new temporary directory (or under `parent`). Its commits are
 * signed with the fixture release key (test/helpers/signing.ts) unless `sign` is false.
 */
export async function createRepo(parent?: string, opts: { sign?: boolean } = {}): Promise<FixtureRepo> {
  const key = opts.sign === false ? null : await fixtureSigningKey();
  const base = parent ?? (await mkdtemp(join(tmpdir(), 'alt-repo-')));
  const path = join(base, 'repo');
  await mkdir(path, { recursive: true });
  await ostree([`--repo=${path}`, 'init', '--mode=archive']);
  let n = 0;
  return {
    path,
    async commit({ ref, version, timestamp, metadata }) {
      const tree = join(base, `tree-${n++}`);
      await writeTree(tree, version);
      const args = [
        `--repo=${path}`,
        'commit',
        `--branch=${ref}`,
        `--tree=dir=${tree}`,
        `--add-metadata-string=version=${version}`,
        `--subject=ALT ${version}`,
      ];
      if (timestamp) args.push(`--timestamp=${timestamp}`);
      for (const [k, v] of Object.entries(metadata ?? {})) args.push(`--add-metadata-string=${k}=${v}`);
      const checksum = await ostree(args);
      if (key !== null) await key.sign(path, checksum);
      // Pulls resolve refs from the summary: refresh it after every commit (stale-summary trap).
      await ostree([`--repo=${path}`, 'summary', '-u']);
      return { ref, version, checksum };
    },
  };
}

/** A static file server for a directory on 127.0.0.1, with a switch to inject failures. */
export interface StaticServer {
  readonly url: string;
  readonly server: Server;
  /** When set, every request is answered with this status instead of the file. */
  failWith: number | null;
  /**
   * Holds every later request whose path matches `path` unanswered until {@link StaticServer.release}
   * (a pull that is in flight for as long as a test needs, e.g. to kill a process mid-stage).
   */
  hold(path: RegExp): void;
  /** Answers the held requests and stops holding. */
  release(): void;
  /** How many requests were held since the last {@link StaticServer.hold}. */
  readonly held: number;
  close(): Promise<void>;
}

/** Serves `dir` read-only over HTTP on `host` (default 127.0.0.1) and an ephemeral port. */
export async function serveDir(dir: string, opts: { host?: string } = {}): Promise<StaticServer> {
  const host = opts.host ?? '127.0.0.1';
  const state: { failWith: number | null; hold: RegExp | null; gate: Promise<void>; open: () => void; held: number } = {
    failWith: null,
    hold: null,
    gate: Promise.resolve(),
    open: () => undefined,
    held: 0,
  };
  const server = createServer((req, res) => {
    void (async () => {
      if (state.failWith !== null) {
        res.writeHead(state.failWith).end();
        return;
      }
      const rel = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')).replace(/^(\.\.[/\\])+/, '');
      if (state.hold?.test(rel) === true) {
        state.held += 1;
        await state.gate;
      }
      const file = join(dir, rel);
      try {
        const st = await stat(file);
        if (!st.isFile()) throw new Error('not a file');
        const body = await readFile(file);
        res.writeHead(200, { 'content-length': body.length }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const handle: StaticServer = {
    url: `http://${host}:${port}`,
    server,
    get failWith() {
      return state.failWith;
    },
    set failWith(v) {
      state.failWith = v;
    },
    hold(path) {
      state.open();
      state.hold = path;
      state.held = 0;
      state.gate = new Promise<void>((resolve) => (state.open = resolve));
    },
    release() {
      state.hold = null;
      state.open();
    },
    get held() {
      return state.held;
    },
    close: () =>
      new Promise<void>((resolve) => {
        state.open();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return handle;
}
