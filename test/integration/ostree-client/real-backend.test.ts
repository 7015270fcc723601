// The rpm-ostree client against the real alt-ostreed (built in dist/), a private dbus-daemon, a
// real archive repo on 127.0.0.1 and a fake-booted sysroot: the agent's path end to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { createOstreeClient, type OstreeClient } from '../../../src/ostree/client/index.js';
import { startBackend, type RunningBackend } from '../../helpers/alt-ostreed.js';
import { startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';
import { createRepo, serveDir, type FixtureCommit, type StaticServer } from '../../helpers/ostree-repo.js';
import { createSysroot, type TestSysroot } from '../../helpers/sysroot.js';

const REF = 'altcos/x86_64/sisyphus';

describe('src/ostree/client against the real alt-ostreed', () => {
  let bus: PrivateBus;
  let server: StaticServer;
  let sysroot: TestSysroot;
  let daemon: RunningBackend;
  let client: OstreeClient;
  const log = memoryLogger();
  const c: FixtureCommit[] = [];

  beforeAll(async () => {
    const repo = await createRepo();
    for (const [i, month] of ['01', '02', '03'].entries()) {
      c.push(await repo.commit({ ref: REF, version: `2024${month}01.${i}`, timestamp: `2024-${month}-01 00:00:00` }));
    }
    server = await serveDir(repo.path);
    sysroot = await createSysroot({ repoUrl: server.url, ref: REF, commit: c[0]!.checksum });
    bus = await startPrivateBus();
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    client = createOstreeClient({ busAddress: bus.address, clock: systemClock(), logger: log });
  });

  afterAll(async () => {
    await client?.close();
    await daemon?.stop();
    await bus?.stop();
    await server?.close();
    await sysroot?.destroy();
  });

  it('reads the booted deployment', async () => {
    const set = await client.status();
    expect(set.booted).toMatchObject({ checksum: c[0]!.checksum, version: '20240101.0', stream: 'sisyphus', booted: true });
    expect(set.booted?.timestampMs).toBe(Date.UTC(2024, 0, 1));
    expect(set.staged).toBeNull();
  });

  it('registers as the update driver', async () => {
    await client.registerDriver();
  });

  it('stages a release locked for finalization and confirms it', async () => {
    const staged = await client.stage({ payload: c[1]!.checksum, version: '20240201.1' }, { allowDowngrade: false });
    expect(staged).toMatchObject({ checksum: c[1]!.checksum, staged: true, finalizationLocked: true, stream: 'sisyphus' });
    expect((await client.status()).staged?.checksum).toBe(c[1]!.checksum);
  });

  it('refuses a finalization with the wrong checksum as a failed transaction, then cleans up', async () => {
    await expect(client.finalize(c[2]!.checksum)).rejects.toMatchObject({ code: 'OSTREE_TRANSACTION_FAILED' });
    await client.cleanupPending();
    expect((await client.status()).staged).toBeNull();
  });

  it('stages again and finalizes: the simulated reboot boots the new deployment', async () => {
    await client.stage({ payload: c[2]!.checksum, version: '20240301.2' }, { allowDowngrade: false });
    await client.finalize(c[2]!.checksum);
    expect(await sysroot.bootedChecksum()).toBe(c[2]!.checksum);
  });

  it('reports ostree_backend_gone once the backend is killed, and recovers when it is back', async () => {
    await daemon.kill();
    await expect(client.status()).rejects.toMatchObject({ kind: 'ostree_backend_gone' });
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    const set = await client.status();
    expect(set.booted?.checksum).toBe(c[2]!.checksum);
    expect(set.rollback?.checksum).toBe(c[0]!.checksum);
  });
});
