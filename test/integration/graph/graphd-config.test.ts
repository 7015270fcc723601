// alt-graphd flags and TOML config, and the change-poll loop driven by a ManualClock.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { loadGraphdConfig } from '../../../src/graph-server/config.js';
import { startGraphd } from '../../../src/graph-server/server.js';
import { createRepo, type FixtureRepo } from '../../helpers/ostree-repo.js';

let dir: string;
let repo: FixtureRepo;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graphd-cfg-'));
  repo = await createRepo(dir);
  await mkdir(join(dir, 'updates'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('graph-server/config', () => {
  it('reads the TOML file and lets flags win', async () => {
    const file = join(dir, 'a.toml');
    await writeFile(file, 'repo = "/r"\nupdates = "/u"\nlisten = "127.0.0.1:9000"\nref_prefix = "acos"\npoll_interval_secs = 5\n');
    const c = await loadGraphdConfig(['--config', file, '--listen', '127.0.0.1:0']);
    expect(c).toMatchObject({ repo: '/r', updates: '/u', host: '127.0.0.1', port: 0, refPrefix: 'acos', pollIntervalSecs: 5, implicitRollout: false, nowSecs: null });
  });

  it.each([
    ['an unknown key', 'repo = "/r"\nupdates = "/u"\nlisten_addr = "x"\n', "unknown key 'listen_addr'"],
    ['a wrong type', 'repo = "/r"\nupdates = "/u"\npoll_interval_secs = "5"\n', 'poll_interval_secs: expected an integer'],
    ['a missing repo', 'updates = "/u"\n', 'repo: expected a non-empty string (required)'],
    ['broken TOML', 'repo = \n', 'invalid TOML'],
  ])('rejects %s naming the key', async (_what, text, message) => {
    const file = join(dir, 'bad.toml');
    await writeFile(file, text);
    await expect(loadGraphdConfig(['--config', file])).rejects.toMatchObject({ code: 'GRAPHD_CONFIG', message: expect.stringContaining(message) as string });
  });

  it('rejects a bad --listen and unknown flags', async () => {
    await expect(loadGraphdConfig(['--repo', '/r', '--updates', '/u', '--listen', 'localhost'])).rejects.toThrow('--listen: expected HOST:PORT');
    await expect(loadGraphdConfig(['--repo', '/r', '--bogus'])).rejects.toMatchObject({ code: 'GRAPHD_CONFIG' });
  });
});

describe('graph-server poll loop', () => {
  it('rebuilds after the poll interval when a ref moves', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    await repo.commit({ ref: 'altcos/x86_64/p11', version: 'p11.20261101.0.0' });
    const g = await startGraphd(
      { repo: repo.path, updates: join(dir, 'updates'), host: '127.0.0.1', port: 0, refPrefix: 'altcos', pollIntervalSecs: 30, cacheDir: join(dir, 'c'), implicitRollout: true, nowSecs: null, verifyKeyringDir: null },
      { clock, logger: memoryLogger() },
    );
    try {
      expect(g.service.graphs()[0]?.nodes).toHaveLength(1);
      await repo.commit({ ref: 'altcos/x86_64/p11', version: 'p11.20261108.0.0' });
      clock.advance(29_000);
      await new Promise((r) => setTimeout(r, 100));
      expect(g.service.stats.rebuilds).toBe(1);
      clock.advance(1_000);
      for (let i = 0; i < 600 && g.service.graphs()[0]?.nodes.length !== 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(g.service.graphs()[0]?.nodes).toHaveLength(2);
      expect(g.service.graphs()[0]?.edges.map((e) => [...e])).toEqual([[0, 1]]);
    } finally {
      await g.close();
    }
  });
});
