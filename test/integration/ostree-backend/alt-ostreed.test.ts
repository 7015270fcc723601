// alt-ostreed end to end: private dbus-daemon, real archive repo on 127.0.0.1, real fake-booted
// sysroot, the daemon spawned from dist/ and driven over D-Bus like rpm-ostree's CLI would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type RunningBackend } from '../../helpers/alt-ostreed.js';
import type { PrivateBus } from '../../helpers/dbus-daemon.js';
import { BACKEND_REF, startBackendWorld, type BackendWorld } from '../../helpers/backend-world.js';
import { createRepo, type FixtureCommit, type StaticServer } from '../../helpers/ostree-repo.js';
import type { TestSysroot } from '../../helpers/sysroot.js';
import { connectClient, dbusError, opts, runTransaction, type Client } from './rpmostree-client.js';

const REF = BACKEND_REF;
const BUSY = 'org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code26';

describe('alt-ostreed over D-Bus on a fake-booted sysroot', () => {
  let bus: PrivateBus;
  let server: StaticServer;
  let sysroot: TestSysroot;
  let world: BackendWorld | undefined;
  let daemon: RunningBackend;
  let client: Client;
  const c: FixtureCommit[] = [];

  const stage = async (checksum: string, extra: Record<string, boolean | string> = {}) =>
    runTransaction(
      String(
        await client.callOS(
          'Deploy',
          `revision=${checksum}`,
          opts({ 'lock-finalization': true, 'skip-branch-check': true, 'allow-downgrade': false, ...extra }),
        ),
      ),
    );

  beforeAll(async () => {
    const repo = await createRepo();
    for (const [i, month] of ['01', '02', '03', '04'].entries()) {
      c.push(await repo.commit({ ref: REF, version: `2024${month}01.${i}`, timestamp: `2024-${month}-01 00:00:00` }));
    }
    ({ server, sysroot, bus } = world = await startBackendWorld(repo, c[0]!.checksum));
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    client = await connectClient(bus.address);
  });

  afterAll(async () => {
    client?.close();
    await daemon?.stop();
    await world?.close();
  });

  it('publishes the booted deployment with rpm-ostree keys and types', async () => {
    expect(await client.sysrootProp('Booted')).toBe('/org/projectatomic/rpmostree1/altcos');
    expect(await client.osPath('')).toBe('/org/projectatomic/rpmostree1/altcos');
    expect(await client.sysrootProp('ActiveTransaction')).toEqual(['', '', '']);
    const [d] = await client.deployments();
    expect(d).toMatchObject({
      id: `altcos-${c[0]!.checksum}.0`,
      osname: 'altcos',
      serial: 0,
      checksum: c[0]!.checksum,
      version: '20240101.0',
      timestamp: BigInt(Date.UTC(2024, 0, 1) / 1000),
      origin: `altcos:${REF}`,
      booted: true,
      staged: false,
      pinned: false,
    });
    expect(d).not.toHaveProperty('finalization-locked');
    expect(await client.osProp('BootedDeployment')).toMatchObject({ checksum: c[0]!.checksum });
  });

  it('stages a release locked for finalization', async () => {
    const r = await stage(c[1]!.checksum);
    expect(r).toMatchObject({ started: true, success: true, error: '' });
    const [staged, booted] = await client.deployments();
    expect(staged).toMatchObject({ checksum: c[1]!.checksum, staged: true, booted: false, 'finalization-locked': true, version: '20240201.1' });
    expect(booted).toMatchObject({ checksum: c[0]!.checksum, booted: true });
    expect(await client.osProp('DefaultDeployment')).toMatchObject({ checksum: c[1]!.checksum });
  });

  it('re-stages a newer release over the staged one', async () => {
    expect(await stage(c[2]!.checksum)).toMatchObject({ success: true });
    const ds = await client.deployments();
    expect(ds.map((d) => [d['checksum'], d['staged']])).toEqual([
      [c[2]!.checksum, true],
      [c[0]!.checksum, false],
    ]);
  });

  it('refuses a downgrade unless allowed', async () => {
    const r = await stage(c[1]!.checksum, { 'allow-downgrade': false });
    expect(r.success).toBe(false);
    expect(r.error).toMatch(/chronologically older than current revision/);
  });

  it('refuses to finalize with the wrong checksum and keeps the deployment staged', async () => {
    const r = await runTransaction(String(await client.callOS('FinalizeDeployment', opts({ checksum: c[1]!.checksum }))));
    expect(r).toMatchObject({ success: false, error: `Expected staged base checksum ${c[1]!.checksum}, but found ${c[2]!.checksum}` });
    expect((await client.deployments())[0]).toMatchObject({ staged: true, 'finalization-locked': true });
    expect(await sysroot.rebootCount()).toBe(0);
  });

  it('finalizes: the simulated reboot boots the new deployment and the old one is the rollback', async () => {
    const r = await runTransaction(String(await client.callOS('FinalizeDeployment', opts({ checksum: c[2]!.checksum }))));
    expect(r).toMatchObject({ success: true });
    expect(await sysroot.rebootCount()).toBe(1);
    expect(await sysroot.bootedChecksum()).toBe(c[2]!.checksum);
    await client.callSysroot('Reload');
    expect(await client.osProp('BootedDeployment')).toMatchObject({ checksum: c[2]!.checksum, booted: true });
    expect(await client.osProp('RollbackDeployment')).toMatchObject({ checksum: c[0]!.checksum });
  });

  it('rolls back: the previous deployment becomes the default', async () => {
    const r = await runTransaction(String(await client.callOS('Rollback', opts({}))));
    expect(r).toMatchObject({ success: true });
    const ds = await client.deployments();
    expect(ds.map((d) => [d['checksum'], d['booted']])).toEqual([
      [c[0]!.checksum, false],
      [c[2]!.checksum, true],
    ]);
    expect(await client.osProp('DefaultDeployment')).toMatchObject({ checksum: c[0]!.checksum });
  });

  it('joins identical requests and refuses others with the busy error while a transaction runs', async () => {
    const args = ['Deploy', `revision=${c[3]!.checksum}`, opts({ 'lock-finalization': true, 'skip-branch-check': true, 'allow-downgrade': true })] as const;
    // Concurrent identical calls join one transaction.
    const [first, second] = (await Promise.all([client.callOS(...args), client.callOS(...args)])).map(String);
    expect(second).toBe(first);
    expect(String(await client.callOS(...args))).toBe(first);
    expect(await client.sysrootProp('ActiveTransactionPath')).toBe(first);
    const active = (await client.sysrootProp('ActiveTransaction')) as string[];
    expect(active[0]).toBe('Deploy');
    expect(active[2]).toBe('/org/projectatomic/rpmostree1/altcos');
    const busy = await dbusError(client.callOS('Cleanup', ['pending-deploy']));
    expect(busy.name).toBe(BUSY);
    expect(busy.text).toMatch(/^Transaction in progress: deploy\n You can cancel the current transaction with `rpm-ostree cancel`$/);
    expect(await runTransaction(first!)).toMatchObject({ success: true });
    // Closed once the only peer disconnected: idle again.
    await expect.poll(() => client.sysrootProp('ActiveTransaction'), { timeout: 5000 }).toEqual(['', '', '']);
    expect((await client.deployments())[0]).toMatchObject({ checksum: c[3]!.checksum, staged: true });
  });

  it('removes a pending deployment with Cleanup(pending-deploy)', async () => {
    expect(await runTransaction(String(await client.callOS('Cleanup', ['pending-deploy'])))).toMatchObject({ success: true });
    expect((await client.deployments()).some((d) => d['staged'])).toBe(false);
  });

  it('finishes a transaction cancelled before Start with failure and changes nothing', async () => {
    const before = await client.deployments();
    const address = String(await client.callOS('Deploy', `revision=${c[1]!.checksum}`, opts({ 'skip-branch-check': true })));
    const r = await runTransaction(address, {
      beforeStart: async (tx) => {
        await tx.Cancel!();
      },
    });
    expect(r).toMatchObject({ started: false, success: false, error: 'Operation was cancelled' });
    await client.callSysroot('Reload');
    expect(await client.deployments()).toEqual(before);
  });

  it('cancels a transaction whose caller leaves the bus before Start', async () => {
    const other = await connectClient(bus.address);
    await other.callOS('Deploy', `revision=${c[1]!.checksum}`, opts({ 'skip-branch-check': true }));
    expect(((await client.sysrootProp('ActiveTransaction')) as string[])[0]).toBe('Deploy');
    other.close();
    await expect.poll(() => client.sysrootProp('ActiveTransaction'), { timeout: 10_000 }).toEqual(['', '', '']);
  });

  it('kills the running ostree command on Cancel and reports the cancellation', async () => {
    server.failWith = null;
    // A pull that never completes: the HTTP server accepts but does not answer.
    const hang = server.server.listeners('request');
    server.server.removeAllListeners('request');
    server.server.on('request', () => undefined);
    try {
      const address = String(await client.callOS('Deploy', `revision=${c[1]!.checksum}`, opts({ 'skip-branch-check': true })));
      const r = await runTransaction(address, {
        afterStart: async (tx) => {
          await new Promise((res) => setTimeout(res, 300));
          await tx.Cancel!();
        },
      });
      expect(r).toMatchObject({ started: true, success: false, error: 'Operation was cancelled' });
    } finally {
      server.server.removeAllListeners('request');
      for (const l of hang) server.server.on('request', l as (...a: unknown[]) => void);
    }
    await expect.poll(() => client.sysrootProp('ActiveTransaction'), { timeout: 10_000 }).toEqual(['', '', '']);
  });

  it('answers NotSupported for methods it does not implement, and rejects bad cleanup types', async () => {
    expect((await dbusError(client.callOS('Upgrade', opts({})))).name).toBe('org.freedesktop.DBus.Error.NotSupported');
    const bad = await dbusError(client.callOS('Cleanup', ['everything']));
    expect(bad.text).toBe('Invalid cleanup type: everything');
    const unknown = await dbusError(client.callSysroot('GetOS', 'nosuchos'));
    expect(unknown.text).toBe('OS name "nosuchos" not found');
  });

  it('recomputes its state from disk after being killed mid-transaction', async () => {
    const address = String(await client.callOS('Deploy', `revision=${c[3]!.checksum}`, opts({ 'lock-finalization': true, 'skip-branch-check': true })));
    const outcome = runTransaction(address).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    await daemon.kill();
    await outcome;
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    client.close();
    client = await connectClient(bus.address);
    expect(await client.sysrootProp('ActiveTransaction')).toEqual(['', '', '']);
    const ds = await client.deployments();
    expect(ds.find((d) => d['booted'])).toMatchObject({ checksum: await sysroot.bootedChecksum() });
    // Whatever the killed work left behind, a new transaction runs against the real disk state.
    expect(await stage(c[3]!.checksum)).toMatchObject({ success: true });
    expect((await client.deployments())[0]).toMatchObject({ checksum: c[3]!.checksum, staged: true, 'finalization-locked': true });
  });
});
