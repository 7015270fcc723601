// scripts/install.sh, the one install step the package and the test nodes share: what it does
// again over an existing install, its --node option, and its refusals.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const INSTALL = join(import.meta.dirname, '..', '..', '..', 'scripts', 'install.sh');

async function install(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const r = await exec(INSTALL, args);
    return { code: 0, stderr: r.stderr };
  } catch (err: unknown) {
    const e = err as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '' };
  }
}

describe('scripts/install.sh', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'install-'));
  });

  it('keeps an edited alt-ostreed.toml and replaces the code when run again over an install', async () => {
    const dest = join(dir, 'again');
    expect(await install(['--destdir', dest])).toEqual({ code: 0, stderr: '' });
    const toml = join(dest, 'etc/alt-updated/alt-ostreed.toml');
    const edited = '[authorization]\nusers = ["alt-updated", "ops"]\n';
    await writeFile(toml, edited);
    const stale = join(dest, 'usr/lib/alt-updated/dist/src/stale-module.js');
    await writeFile(stale, 'export {};\n');
    const main = join(dest, 'usr/lib/alt-updated/dist/src/cli/main.js');
    await writeFile(main, 'broken');
    expect(await install([`--destdir=${dest}`])).toEqual({ code: 0, stderr: '' });
    expect(await readFile(toml, 'utf8')).toBe(edited);
    await expect(readFile(stale)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(main, 'utf8')).toMatch(/^#!\/usr\/bin\/env node/);
    // The Prometheus alerting rules ship as data (docs/usage/metrics.md).
    const rules = 'prometheus/alt-updated.rules.yml';
    const shipped = await readFile(join(import.meta.dirname, '..', '..', '..', 'packaging', rules), 'utf8');
    expect(await readFile(join(dest, 'usr/share/alt-updated', rules), 'utf8')).toBe(shipped);
    // Every file of the operator docs, in subdirectories too (docs/usage/images).
    const docs = join(import.meta.dirname, '..', '..', '..', 'docs');
    for (const sub of ['usage', 'reference']) {
      const files = (await readdir(join(docs, sub), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
      expect(files.length).toBeGreaterThan(0);
      for (const e of files) {
        const rel = relative(docs, join(e.parentPath, e.name));
        expect(await readFile(join(dest, 'usr/share/doc/alt-updated', rel), 'utf8'), rel).toBe(await readFile(join(docs, rel), 'utf8'));
      }
    }
  });

  it('writes the --node path into every launcher', async () => {
    const dest = join(dir, 'node');
    expect(await install(['--destdir', dest, '--node', '/opt/node20/bin/node'])).toEqual({ code: 0, stderr: '' });
    for (const b of ['alt-updated', 'alt-updatectl', 'alt-ostreed', 'alt-graphd', 'alt-fleetlockd']) {
      expect(await readFile(join(dest, 'usr/bin', b), 'utf8'), b).toMatch(/^exec \/opt\/node20\/bin\/node /m);
    }
  });

  it('refuses a missing --destdir, an unknown argument and a --node path the launchers cannot hold', async () => {
    for (const [args, msg] of [
      [[], /--destdir is required/],
      [['--destdir', join(dir, 'x'), '--prefix', '/usr'], /unknown argument '--prefix'/],
      [['--destdir', join(dir, 'x'), '--node', 'node'], /--node must be an absolute path/],
      [['--destdir', join(dir, 'x'), '--node', '/opt/my node/node'], /--node must be an absolute path without spaces/],
    ] as const) {
      const r = await install([...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(msg);
    }
  });
});
