// The state directory lock (a listening unix socket): dies with its owner, and exactly one of two
// servers starting at once over a stale lock gets it.
import { link, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_SOCKET, takeDirLock, type DirLock } from '../../../src/fleetlock/server/dir-lock.js';

async function leaveStaleSocket(dir: string): Promise<void> {
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(join(dir, 'dead.sock'), () => r()));
  await link(join(dir, 'dead.sock'), join(dir, LOCK_SOCKET));
  await new Promise<void>((r) => dead.close(() => r()));
}

describe('src/fleetlock/server/dir-lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dir-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('grants the lock to exactly one of several concurrent takers, over a stale lock or none', async () => {
    for (let round = 0; round < 20; round++) {
      if (round % 2 === 0) await leaveStaleSocket(dir);
      const results = await Promise.allSettled([takeDirLock(dir), takeDirLock(dir), takeDirLock(dir)]);
      const won = results.filter((r): r is PromiseFulfilledResult<DirLock> => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/in use by process \d+/);
      await won[0]!.value.release();
    }
  });

  it('refuses a state directory whose path is too long for a unix socket instead of binding a truncated path', async () => {
    const long = join(dir, 'd'.repeat(120 - dir.length));
    await mkdir(long);
    await expect(takeDirLock(long)).rejects.toThrow(`state directory ${long} is too long for its lock socket`);
    expect(await readdir(long)).toEqual([]);
    expect(await readdir(dir)).toEqual([long.slice(dir.length + 1)]);
  });

  it('is free again once released, and a release does not remove a lock it no longer owns', async () => {
    const a = await takeDirLock(dir);
    await a.release();
    const b = await takeDirLock(dir);
    await a.release();
    await expect(takeDirLock(dir)).rejects.toThrow(/in use by process/);
    await b.release();
  });
});
