import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDeadendMotd, deadendMotdText, type MotdFs } from '../../../src/graph/deadend.js';

async function tmpPath(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'motd-')), '85-alt-updated-deadend.motd');
}

/**
 * We run as root, so a read-only /run/motd.d cannot be reproduced: this fs double refuses to create
 * or rename files in the directory (EACCES) like the service user would see, and counts writes.
 */
function readOnlyDirFsForTest(): MotdFs & { opens: number } {
  const denied = (): Promise<never> => Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }));
  const f = {
    opens: 0,
    readFile: fs.readFile,
    chmod: fs.chmod,
    writeFile: denied,
    rename: denied,
    unlink: (p: Parameters<typeof fs.unlink>[0]) => (String(p).endsWith('.partial') ? fs.unlink(p) : denied()),
    open: ((...args: Parameters<typeof fs.open>) => {
      f.opens++;
      return fs.open(...args);
    }) as typeof fs.open,
  };
  return f as MotdFs & { opens: number };
}

describe('graph/deadend MOTD', () => {
  it('writes the dead-end line atomically and removes it when cleared', async () => {
    const path = await tmpPath();
    const motd = createDeadendMotd({ path });
    await motd.set('https://bugs.altlinux.org/42');
    expect(await readFile(path, 'utf8')).toBe('This release is a dead-end and will not further auto-update: https://bugs.altlinux.org/42\n');
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    await motd.clear();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await motd.clear(); // idempotent: a missing file is fine
  });

  it('does not rewrite an unchanged fragment', async () => {
    const path = await tmpPath();
    const motd = createDeadendMotd({ path });
    await motd.set('r');
    const before = await stat(path);
    await motd.set('r');
    expect((await stat(path)).ino).toBe(before.ino);
  });

  it('rewrites a tmpfiles-created file in place when the directory is not writable', async () => {
    const path = await tmpPath();
    await writeFile(path, '');
    const ino = (await stat(path)).ino;
    const rofs = readOnlyDirFsForTest();
    const motd = createDeadendMotd({ path, fs: rofs });
    await motd.set('old release');
    expect(await readFile(path, 'utf8')).toBe(deadendMotdText('old release'));
    await motd.set('x');
    expect(await readFile(path, 'utf8')).toBe(deadendMotdText('x'));
    expect((await stat(path)).ino).toBe(ino);
    await motd.clear();
    expect(await readFile(path, 'utf8')).toBe('');
    expect(rofs.opens).toBe(3);
  });

  it('reports a typed error when the file cannot be written at all', async () => {
    const motd = createDeadendMotd({ path: join(await mkdtemp(join(tmpdir(), 'motd-')), 'missing-dir', 'x.motd') });
    await expect(motd.set('r')).rejects.toMatchObject({ code: 'GRAPH_DEADEND_MOTD' });
  });

  it('flattens newlines in the reason to keep one line', () => {
    expect(deadendMotdText('a\nb')).toBe('This release is a dead-end and will not further auto-update: a b\n');
  });
});
