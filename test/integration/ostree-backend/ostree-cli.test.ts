import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processRunner } from '../../../src/ostree/backend/command.js';
import { isStale, OstreeCli } from '../../../src/ostree/backend/ostree-cli.js';
import { createRepo, serveDir, type FixtureCommit, type StaticServer } from '../../helpers/ostree-repo.js';
import { createSysroot, type TestSysroot } from '../../helpers/sysroot.js';

const REF = 'altcos/x86_64/sisyphus';

describe('ostree driver on a fake-booted sysroot', () => {
  let server: StaticServer;
  let sysroot: TestSysroot;
  let cli: OstreeCli;
  const commits: FixtureCommit[] = [];
  const stageReq = (i: number) => ({ osname: 'altcos', refspec: `altcos:${REF}`, checksum: commits[i]!.checksum, overrideCommit: true, lockFinalization: true });

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

  it('pulls the ref head or an exact commit and reports its facts', async () => {
    expect((await cli.pull('altcos', REF, null)).checksum).toBe(commits[2]!.checksum);
    expect(await cli.pull('altcos', REF, commits[1]!.checksum)).toMatchObject({ checksum: commits[1]!.checksum, version: '20240201.0' });
  });

  it('stages locked, and a simulated reboot does not finalize a locked deployment', async () => {
    const after = await cli.stage(stageReq(1), (await cli.status()).raw);
    expect(after.entries.map((e) => [e.checksum, e.staged, e.booted])).toEqual([
      [commits[1]!.checksum, true, false],
      [commits[0]!.checksum, false, true],
    ]);
    expect(after.lockFilePresent).toBe(true);
    expect(after.raw).toBe((await cli.status()).raw);
    await sysroot.simulateReboot();
    expect(await sysroot.bootedChecksum()).toBe(commits[0]!.checksum);
  });

  it('refuses a guarded mutation when the sysroot changed since the snapshot', async () => {
    const old = await cli.status();
    await cli.stage(stageReq(1), old.raw);
    const err = await cli.unlock(old.raw).catch((e: unknown) => e);
    expect(isStale(err)).toBe(true);
    expect((await cli.status()).lockFilePresent).toBe(true);
  });

  it('finalizes an unlocked staged deployment at the simulated reboot; the old one becomes rollback', async () => {
    await cli.unlock((await cli.status()).raw);
    expect((await cli.status()).lockFilePresent).toBe(false);
    await sysroot.simulateReboot();
    expect(await sysroot.bootedChecksum()).toBe(commits[1]!.checksum);
    const s = await cli.status();
    expect(s.entries.map((e) => [e.checksum, e.booted, e.rollback])).toEqual([
      [commits[1]!.checksum, true, false],
      [commits[0]!.checksum, false, true],
    ]);
  });

  it('rolls back by reordering deployments with the same serials', async () => {
    const before = await cli.status();
    const target = before.entries.find((e) => e.rollback)!;
    const { how, snapshot } = await cli.rollback('altcos', target, before.raw);
    // gir1.2-ostree-1.0 is a test dependency: the exact reorder, not the redeploy fallback, must run.
    expect(how).toBe('reorder');
    expect(snapshot.entries).toHaveLength(2);
    expect(snapshot.entries[0]).toMatchObject({ checksum: target.checksum, serial: target.serial, pending: true });
  });

  it('undeploys a staged deployment and its lock', async () => {
    await sysroot.simulateReboot();
    await cli.pull('altcos', REF, commits[2]!.checksum);
    const staged = await cli.stage(stageReq(2), (await cli.status()).raw);
    expect(staged.entries[0]?.staged).toBe(true);
    const s = await cli.undeploy([0], true, staged.raw);
    expect(s.entries.some((e) => e.staged)).toBe(false);
    expect(s.lockFilePresent).toBe(false);
  });
});
