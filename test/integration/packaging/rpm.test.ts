// The ALT RPM spec (packaging/alt/alt-updated.spec) built with Debian's rpmbuild from the source
// tarball packaging/alt/make-source.sh makes, then installed into an empty root: its file list, its
// scriptlets, and that what it installs runs and is consistent (units verified against the root,
// launchers start every program with the host's node, the backend authorises the agent's user).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBackendConfig } from '../../../src/ostree/backend/config.js';
import { shebangNodeArgs } from '../../helpers/testbed-node.js';

const exec = promisify(execFile);
const SRC = join(import.meta.dirname, '..', '..', '..');
const SPEC = join(SRC, 'packaging', 'alt', 'alt-updated.spec');
const pkg = JSON.parse(await readFile(join(SRC, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

/** Runs a command to its end; `output` is stdout and stderr together. */
async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; output: string }> {
  try {
    const r = await exec(cmd, args, { maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, output: r.stdout + r.stderr };
  } catch (err: unknown) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

/** Runs a command that must succeed; resolves with its stdout. */
async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.output}`);
  return r.stdout;
}

/** `Key=value` lines of a unit file. */
const unitKeys = (text: string, key: string): string[] =>
  [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());

describe('the ALT RPM package', () => {
  let dir = '';
  let rpmFile = '';
  let files: string[] = [];
  let root = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpm-'));
    await ok(join(SRC, 'packaging', 'alt', 'make-source.sh'), [join(dir, 'SOURCES')]);
    await mkdir(join(dir, 'tmp'));
    // --nodeps: Debian's rpm database knows no `node` package; the macros file stands in for ALT's.
    await ok('rpmbuild', [
      '-bb', '--nodeps', '--quiet',
      '--define', `_topdir ${dir}`,
      '--define', `_tmppath ${join(dir, 'tmp')}`,
      '--load', join(SRC, 'packaging', 'alt', 'debian-test.macros'),
      SPEC,
    ]);
    const rpms = await readdir(join(dir, 'RPMS', 'noarch'));
    expect(rpms).toEqual([`alt-updated-${pkg.version}-alt1.noarch.rpm`]);
    rpmFile = join(dir, 'RPMS', 'noarch', rpms[0]!);
    files = (await ok('rpm', ['-qlp', rpmFile])).split('\n').filter((l) => l.startsWith('/'));
    root = join(dir, 'root');
    await mkdir(root);
    await ok('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', rpmFile]);
  });

  it('is built noarch with the version of package.json', async () => {
    const q = await ok('rpm', ['-qp', '--qf', '%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}', rpmFile]);
    expect(q).toBe(`alt-updated ${pkg.version} alt1 noarch Apache-2.0`);
    const requires = await ok('rpm', ['-qp', '--requires', rpmFile]);
    for (const r of ['node >= 20.18', 'ostree', 'dbus']) expect(requires.split('\n')).toContain(r);
  });

  it('holds every file a host needs at its FHS path', async () => {
    const want = [
      ...Object.keys(pkg.bin).map((b) => `/usr/bin/${b}`),
      ...Object.values(pkg.bin).map((js) => `/usr/lib/alt-updated/${js}`),
      '/usr/lib/alt-updated/package.json',
      '/usr/lib/alt-updated/dist/src/ostree/rpmostree1.xml',
      ...(await readdir(join(SRC, 'systemd', 'system'))).map((u) => `/usr/lib/systemd/system/${u}`),
      ...(await readdir(join(SRC, 'systemd', 'dbus-1', 'system.d'))).map((f) => `/usr/share/dbus-1/system.d/${f}`),
      ...(await readdir(join(SRC, 'systemd', 'dbus-1', 'system-services'))).map((f) => `/usr/share/dbus-1/system-services/${f}`),
      '/usr/lib/sysusers.d/alt-updated.conf',
      '/usr/lib/tmpfiles.d/alt-updated.conf',
      ...(await readdir(join(SRC, 'systemd', 'config.d'))).map((f) => `/usr/lib/alt-updated/config.d/${f}`),
      '/etc/alt-updated/config.d',
      '/etc/alt-updated/alt-ostreed.toml',
      '/usr/share/doc/alt-updated/README.md',
      '/usr/share/alt-updated/prometheus/alt-updated.rules.yml',
      ...Object.keys(pkg.dependencies).map((d) => `/usr/lib/alt-updated/node_modules/${d}/package.json`),
    ];
    expect(files).toEqual(expect.arrayContaining(want));
    // Every unit's Documentation=file:// page is in the package.
    for (const u of await readdir(join(SRC, 'systemd', 'system'))) {
      const docs = unitKeys(await readFile(join(SRC, 'systemd', 'system', u), 'utf8'), 'Documentation');
      for (const d of docs.flatMap((l) => l.split(/\s+/)).filter((l) => l.startsWith('file://'))) {
        expect(files, u).toContain(d.slice('file://'.length));
      }
    }
    const config = (await ok('rpm', ['-qp', '--configfiles', rpmFile])).split('\n').filter((l) => l.startsWith('/'));
    expect(config).toEqual(['/etc/alt-updated/alt-ostreed.toml']);
  });

  it('ships no tests, TypeScript sources, source maps, development packages or native code', async () => {
    const own = files.filter((f) => !f.includes('/node_modules/'));
    expect(own.filter((f) => /\/test\/|\.ts$|\.map$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([]);
    const lock = JSON.parse(await readFile(join(SRC, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; devOptional?: boolean; optional?: boolean }>;
    };
    const shipped = new Set(
      files.map((f) => /^\/usr\/lib\/alt-updated\/((?:node_modules\/(?:@[^/]+\/)?[^/]+\/?)+)package\.json$/.exec(f)?.[1])
        .filter((p): p is string => p !== undefined)
        .map((p) => p.replace(/\/$/, '')),
    );
    const runtime = Object.entries(lock.packages)
      .filter(([p, e]) => p.startsWith('node_modules/') && !e.dev && !e.devOptional && !e.optional)
      .map(([p]) => p);
    expect([...shipped].filter((p) => !lock.packages[p] || lock.packages[p]!.dev || lock.packages[p]!.devOptional)).toEqual([]);
    expect(runtime.filter((p) => !shipped.has(p))).toEqual([]);
  });

  it('creates the user before unpacking and hands the services to ALT post_service/preun_service', async () => {
    const scripts = await ok('rpm', ['-qp', '--scripts', rpmFile]);
    const sysusers = await readFile(join(SRC, 'systemd', 'sysusers.d', 'alt-updated.conf'), 'utf8');
    const pre = /preinstall scriptlet[^\n]*\n([\s\S]*?)\n(?:postinstall|preuninstall) scriptlet/.exec(scripts)?.[1] ?? '';
    expect(pre).toContain('systemd-sysusers --replace=/usr/lib/sysusers.d/alt-updated.conf');
    expect(pre).toContain(sysusers.split('\n').find((l) => l.startsWith('u '))!.trim());
    expect(scripts).toMatch(/postinstall scriptlet[^\n]*\n(?:.*\n)*?post_service alt-updated/);
    expect(scripts).toMatch(/preuninstall scriptlet[^\n]*\n(?:.*\n)*?preun_service alt-updated/);
  });

  it('installs into an empty root with launchers that start every program with the host node', async () => {
    for (const [name, js] of Object.entries(pkg.bin)) {
      const launcher = join(root, 'usr', 'bin', name);
      expect((await stat(launcher)).mode & 0o777, name).toBe(0o755);
      const text = await readFile(launcher, 'utf8');
      const flags = shebangNodeArgs(await readFile(join(SRC, js.replace(/^dist\//, '').replace(/\.js$/, '.ts')), 'utf8'));
      const exec = ['exec /usr/bin/node', ...flags, `/usr/lib/alt-updated/${js}`, '"$@"'].join(' ');
      expect(text.split('\n').filter((l) => l.startsWith('exec '))).toEqual([exec]);
      // Run the launcher as installed, with its two absolute paths pointed into the root.
      const local = text.replace('/usr/bin/node', process.execPath).replace('/usr/lib/alt-updated/', `${root}/usr/lib/alt-updated/`);
      const r = await run('sh', ['-c', local, name, name === 'alt-updatectl' ? '--help' : '--no-such-option']);
      if (name === 'alt-updatectl') expect({ code: r.code, output: r.output }, name).toEqual({ code: 0, output: expect.stringMatching(/^usage: alt-updatectl /) });
      else expect(r.output, name).toMatch(new RegExp(`^${name}: Unknown option '--no-such-option'`));
    }
    expect(shebangNodeArgs(await readFile(join(SRC, 'src', 'agent', 'main.ts'), 'utf8'))).toContain('--no-opt');
  });

  it('authorises the agent user with the backend out of the box', async () => {
    const backendUnit = await readFile(join(root, 'usr/lib/systemd/system/alt-ostreed.service'), 'utf8');
    const configFile = /--config (\S+)/.exec(unitKeys(backendUnit, 'ExecStart')[0] ?? '')?.[1];
    expect(configFile).toBe('/etc/alt-updated/alt-ostreed.toml');
    const config = await loadBackendConfig(join(root, configFile!));
    const agentUnit = await readFile(join(root, 'usr/lib/systemd/system/alt-updated.service'), 'utf8');
    const user = unitKeys(agentUnit, 'User')[0]!;
    const sysusers = await readFile(join(root, 'usr/lib/sysusers.d/alt-updated.conf'), 'utf8');
    expect(sysusers).toMatch(new RegExp(`^u\\s+${user}\\s`, 'm'));
    expect(config.users).toEqual([user]);
    expect(config.methods).toEqual(expect.arrayContaining(['RegisterClient', 'Deploy', 'FinalizeDeployment', 'Cleanup']));
    const policy = await readFile(join(root, 'usr/share/dbus-1/system.d/org.projectatomic.rpmostree1.conf'), 'utf8');
    expect(policy).toContain(`<policy user="${user}">`);
  });

  it('installs units that pass systemd-analyze verify against the root', async () => {
    // systemd's own units (sysinit.target, dbus.socket, ...) come from this host, as regular files in
    // the root's /usr/local/lib/systemd/system, so the installed ones resolve their dependencies and
    // every ExecStart= binary is looked up inside the root.
    const hostUnits = '/usr/lib/systemd/system';
    const local = join(root, 'usr/local/lib/systemd/system');
    await mkdir(local, { recursive: true });
    for (const f of await readdir(hostUnits)) {
      const st = await stat(join(hostUnits, f)).catch(() => null);
      if (st?.isFile() && !f.startsWith('alt-')) await copyFile(join(hostUnits, f), join(local, f));
    }
    for (const unit of await readdir(join(SRC, 'systemd', 'system'))) {
      const r = await run('systemd-analyze', ['verify', `--root=${root}`, '--man=no', '--generators=no', unit]);
      expect({ unit, code: r.code, output: r.output }).toEqual({ unit, code: 0, output: '' });
    }
  });
});
