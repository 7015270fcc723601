// The embedded store's journal on a real file system: torn-tail repair, compaction, replay, dir lock.
import { link, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_SOCKET } from '../../../src/fleetlock/server/dir-lock.js';
import { openEmbeddedStore } from '../../../src/fleetlock/server/embedded-store.js';
import { JOURNAL_FILE, journalLine, openJournal } from '../../../src/fleetlock/server/journal.js';
import type { GroupState } from '../../../src/fleetlock/server/semaphore.js';
import { recursiveLock } from '../../../src/fleetlock/server/semaphore.js';
import { createLockStore } from '../../../src/fleetlock/server/store.js';

const state = (...ids: string[]): GroupState => ({ holders: ids.map((id, i) => ({ id, sinceMs: i, renewedMs: i })) });

describe('src/fleetlock/server/journal on disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cuts a torn last line on open and appends after the intact prefix', async () => {
    const good = journalLine(0, 'g', state('a'));
    await writeFile(join(dir, JOURNAL_FILE), good + journalLine(1, 'g', state('a', 'b')).slice(0, 30));
    let dropped = 0;
    const j = await openJournal(dir, { onTornTail: (n) => (dropped = n) });
    expect(dropped).toBe(30);
    expect(j.records.get('g')?.state).toEqual(state('a'));
    expect(await j.append('g', state('a', 'c'))).toBe(1);
    await j.close();
    const text = await readFile(join(dir, JOURNAL_FILE), 'utf8');
    expect(text).toBe(good + journalLine(1, 'g', state('a', 'c')));
  });

  it('refuses to open a journal damaged in the middle', async () => {
    await writeFile(join(dir, JOURNAL_FILE), journalLine(0, 'g', state('a')) + 'garbage\n' + journalLine(1, 'g', state()));
    await expect(openJournal(dir)).rejects.toMatchObject({ code: 'FLEETLOCKD_STORE_CORRUPT' });
  });

  it('compacts to one line per non-empty group and replays to the same state', async () => {
    const j = await openJournal(dir, { compactEveryLines: 50 });
    for (let i = 0; i < 120; i++) await j.append(`g${i % 3}`, i % 3 === 2 ? state() : state(`id${i}`));
    await j.close();
    const lines = (await readFile(join(dir, JOURNAL_FILE), 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(60);
    const again = await openJournal(dir);
    expect(again.records.get('g0')?.state).toEqual(state('id117'));
    expect(again.records.get('g1')?.state).toEqual(state('id118'));
    expect(again.records.get('g2')?.state.holders ?? []).toEqual([]);
    await again.compact();
    expect((await readFile(join(dir, JOURNAL_FILE), 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    expect(await again.append('g0', state())).toBe(120);
    await again.close();
    await expect(stat(join(dir, `${JOURNAL_FILE}.tmp`))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps a halted group without holders, and its failures, through compaction', async () => {
    const halted: GroupState = {
      holders: [],
      halt: { sinceMs: 5, reason: '1 failed or rolled-back update(s)' },
      failures: [{ id: 'a', release: 'R2', result: 'rolled_back', reason: null, atMs: 4 }],
    };
    const j = await openJournal(dir);
    await j.append('h', halted);
    await j.append('g', state('a'));
    await j.compact();
    await j.close();
    const again = await openJournal(dir);
    expect(again.records.get('h')?.state).toEqual(halted);
    await again.close();
  });

  it('takes over the lock socket of a dead process and keeps the state', async () => {
    const first = createLockStore(await openEmbeddedStore({ stateDir: dir, monotonicMs: () => performance.now() }));
    await first.mutate('g', (s, idle) => recursiveLock(s, 'a', { slots: 1, staleAfterMs: null }, 1, idle));
    await first.close();
    // Simulate a SIGKILLed owner: its socket file stays behind, with nobody listening on it.
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(join(dir, 'dead.sock'), () => r()));
    await link(join(dir, 'dead.sock'), join(dir, LOCK_SOCKET));
    await new Promise<void>((r) => dead.close(() => r()));
    expect((await stat(join(dir, LOCK_SOCKET))).isSocket()).toBe(true);
    const second = createLockStore(await openEmbeddedStore({ stateDir: dir, monotonicMs: () => performance.now() }));
    expect((await second.readAll()).get('g')?.holders.map((h) => h.id)).toEqual(['a']);
    // While it runs, nobody else gets the directory.
    await expect(openEmbeddedStore({ stateDir: dir, monotonicMs: () => performance.now() })).rejects.toThrow(`state directory ${dir} is in use by process ${process.pid}`);
    await second.close();
    await expect(stat(join(dir, LOCK_SOCKET))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
