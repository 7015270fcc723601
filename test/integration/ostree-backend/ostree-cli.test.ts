import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processRunner } from '../../../src/ostree/backend/command.js';
import { OstreeCli } from '../../../src/ostree/backend/ostree-cli.js';
import { createRepo, serveDir, type FixtureCommit, type StaticServer } from '../../helpers/ostree-repo.js';
import { createSysroot, type TestSysroot } from '../../helpers/sysroot.js';

const REF = 'altcos/x86_64/sisyphus';

describe('ostree driver on a fake-booted sysroot', () => {
  let server: StaticServer;
  let sysroot: TestSysroot;
  let cli: OstreeCli;
  const commits: FixtureCommit[] = [];

  beforeAll(async () => {
    const repo = await createRepo();
    commits.push(await repo.commit({ ref: REF, version: '20240101.0', timestamp: '2024-01-01 00:00:00' }));
    commits.push(await repo.commit({ ref: REF, version: '20240201.0', timestamp: '2024-02-01 00:00:00' }));
    commits.push(await repo.commit({ ref: REF, version: '20240301.0', timestamp: '2024-03-01 00:00:00' }));
    server = await serveDir(repo.path);
    sysroot = await createSysroot({ repoUrl: server.url, ref: REF, commit: commits[0]!.checksum });
    cli = new OstreeCli({ sysroot: '/', run: processRunner(sysroot.commandPrefix) });
  });

  afterAll(async () => {
    await sysroot?.destroy();
    await server?.close();
  });

  it('reports the first deployment as booted with its version, origin and timestamp', async () => {
    const s = await cli.status();
    expect(s.entries).toHaveLength(1);
    const e = s.entries[0]!;
    expect(e).toMatchObject({ osname: 'altcos', checksum: commits[0]!.checksum, serial: 0, booted: true, staged: false });
    expect(e.version).toBe('20240101.0');
    expect(e.origin).toBe(`altcos:${REF}`);
    expect(s.commits.get(e.checksum)?.timestampSecs).toBe(Date.UTC(2024, 0, 1) / 1000);
    expect(await sysroot.bootedChecksum()).toBe(commits[0]!.checksum);
  });

  it('walks the remote history of the ref newest first', async () => {
    const h = await cli.history('altcos', REF);
    expect(h.map((c) => c.version)).toEqual(['20240301.0', '20240201.0', '20240101.0']);
  });

  it('stages a pulled commit locked, and a simulated reboot does not finalize it', async () => {
    await cli.pull('altcos', REF, commits[1]!.checksum);
    await cli.stage({ osname: 'altcos', refspec: `altcos:${REF}`, checksum: commits[1]!.checksum, overrideCommit: true, lockFinalization: true });
    const s = await cli.status();
    expect(s.entries.map((e) => [e.checksum, e.staged, e.booted])).toEqual([
      [commits[1]!.checksum, true, false],
      [commits[0]!.checksum, false, true],
    ]);
    expect(s.lockFilePresent).toBe(true);
    await sysroot.simulateReboot();
    expect(await sysroot.bootedChecksum()).toBe(commits[0]!.checksum);
  });

  it('finalizes an unlocked staged deployment at the simulated reboot; the old one becomes rollback', async () => {
    await cli.stage({ osname: 'altcos', refspec: `altcos:${REF}`, checksum: commits[1]!.checksum, overrideCommit: true, lockFinalization: true });
    await cli.setFinalizationLock(false);
    await sysroot.simulateReboot();
    expect(await sysroot.bootedChecksum()).toBe(commits[1]!.checksum);
    const s = await cli.status();
    expect(s.entries.map((e) => [e.checksum, e.booted, e.rollback])).toEqual([
      [commits[1]!.checksum, true, false],
      [commits[0]!.checksum, false, true],
    ]);
    expect(s.lockFilePresent).toBe(false);
  });

  it('rolls back by reordering deployments with the same serials', async () => {
    const before = await cli.status();
    const target = before.entries.find((e) => e.rollback)!;
    const how = await cli.rollback('altcos', target);
    const after = await cli.status();
    expect(after.entries[0]).toMatchObject({ checksum: target.checksum, serial: target.serial, pending: true });
    // gir1.2-ostree-1.0 is a test dependency: the exact reorder, not the redeploy fallback, must run.
    expect(how).toBe('reorder');
    expect(after.entries).toHaveLength(2);
  });

  it('undeploys a staged deployment and its lock', async () => {
    await sysroot.simulateReboot();
    await cli.pull('altcos', REF, commits[2]!.checksum);
    await cli.stage({ osname: 'altcos', refspec: `altcos:${REF}`, checksum: commits[2]!.checksum, overrideCommit: true, lockFinalization: true });
    expect((await cli.status()).entries[0]?.staged).toBe(true);
    await cli.undeploy(0);
    const s = await cli.status();
    expect(s.entries.some((e) => e.staged)).toBe(false);
    expect(s.lockFilePresent).toBe(false);
  });
});
