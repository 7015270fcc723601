// alt-graphd with verify_keyring_dir lists only commits signed by a trusted key, from a local repo
// and from a served repo it mirrors; real gpg keys, real `ostree gpg-sign`.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { createGraphClient } from '../../../src/graph/client.js';
import { loadGraphdConfig, type GraphdConfig } from '../../../src/graph-server/config.js';
import { startGraphd, type RunningGraphd } from '../../../src/graph-server/server.js';
import { createRepo, serveDir, type FixtureCommit, type StaticServer } from '../../helpers/ostree-repo.js';
import { createSigningKey, type SigningKey } from '../../helpers/signing.js';

const REF = 'altcos/x86_64/sisyphus';

describe('alt-graphd signature filter', () => {
  let base: string;
  let trusted: SigningKey;
  let stranger: SigningKey;
  let keyring: string;
  let served: StaticServer;
  const c: FixtureCommit[] = [];
  const running: RunningGraphd[] = [];
  const dispatcher = new Agent();
  const logger = memoryLogger();

  const config = (over: Partial<GraphdConfig>): GraphdConfig => ({
    repo: '',
    updates: join(base, 'updates'),
    host: '127.0.0.1',
    port: 0,
    refPrefix: 'altcos',
    pollIntervalSecs: 30,
    cacheDir: join(base, 'cache'),
    implicitRollout: true,
    nowSecs: null,
    verifyKeyringDir: keyring,
    ...over,
  });
  const versions = async (g: RunningGraphd): Promise<string[]> => {
    const graph = await createGraphClient({ baseUrl: g.url, dispatcher }).fetchGraph({
      basearch: 'x86_64', stream: 'sisyphus', osVersion: c[0]!.version, osChecksum: c[0]!.checksum, group: 'default', nodeUuid: '074c268827d74fb59ed758e8940cd667', rolloutWariness: null,
    });
    return graph.nodes.map((n) => n.version);
  };

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'alt-graphd-sig-'));
    await mkdir(join(base, 'updates'));
    [trusted, stranger] = await Promise.all([createSigningKey('trusted', base), createSigningKey('stranger', base)]);
    keyring = join(base, 'trusted.gpg.d');
    await mkdir(keyring);
    await copyFile(trusted.publicKeyFile, join(keyring, 'alt-releases.gpg'));
    const repo = await createRepo(base, { sign: false });
    const signers = [trusted, null, stranger, trusted];
    for (const [i, signer] of signers.entries()) {
      const commit = await repo.commit({ ref: REF, version: `2026110${i + 1}.0.0`, timestamp: `2026-11-0${i + 1} 00:00:00 +0000` });
      if (signer) await signer.sign(repo.path, commit.checksum);
      c.push(commit);
    }
    served = await serveDir(repo.path);
    running.push(await startGraphd(config({ repo: repo.path }), { clock: new ManualClock(0), logger, poll: false }));
    running.push(await startGraphd(config({ repo: served.url }), { clock: new ManualClock(0), logger, poll: false }));
  });

  afterAll(async () => {
    for (const g of running) await g.close();
    await served?.close();
    await dispatcher.destroy();
    await trusted?.close();
    await stranger?.close();
    await rm(base, { recursive: true, force: true });
  });

  it('lists only the commits a trusted key signed, from a local repo', async () => {
    expect(await versions(running[0]!)).toEqual(['20261101.0.0', '20261104.0.0']);
  });

  it('lists only the commits a trusted key signed, from a mirrored URL', async () => {
    expect(await versions(running[1]!)).toEqual(['20261101.0.0', '20261104.0.0']);
  });

  it('logs each refused commit with its reason and counts them in /metrics', async () => {
    const refused = logger.records.filter((r) => r.fields['event'] === 'commit_unverified').map((r) => [r.fields['payload'], r.fields['reason']]);
    expect(refused).toEqual(expect.arrayContaining([[c[1]!.checksum, 'unsigned'], [c[2]!.checksum, 'untrusted']]));
    const metrics = await (await fetch(new URL('metrics', running[0]!.url))).text();
    expect(metrics).toMatch(/^altgraphd_unverified_commits 2$/m);
  });

  it('refuses at start-up a keyring directory that is missing or holds no keyring, naming the flag', async () => {
    const args = ['--repo', '/r', '--updates', '/u'];
    await expect(loadGraphdConfig([...args, '--verify-keyring-dir', join(base, 'nope')])).rejects.toThrow(/--verify-keyring-dir: cannot read keyring directory/);
    await expect(loadGraphdConfig([...args, '--verify-keyring-dir', join(base, 'updates')])).rejects.toThrow(/--verify-keyring-dir: .* holds no \*\.gpg keyring/);
  });
});
