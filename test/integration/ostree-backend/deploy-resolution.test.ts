// How Deploy/UpdateDeployment resolve what to stage (rpm-ostree's revision rules, branch check,
// download-only / dry-run), against a real repo and fake-booted sysroot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type RunningBackend } from '../../helpers/alt-ostreed.js';
import type { PrivateBus } from '../../helpers/dbus-daemon.js';
import { BACKEND_REF, startBackendWorld, type BackendWorld } from '../../helpers/backend-world.js';
import { createRepo, type FixtureCommit } from '../../helpers/ostree-repo.js';
import type { TestSysroot } from '../../helpers/sysroot.js';
import { connectClient, opts, runTransaction, type Client } from './rpmostree-client.js';

const REF = BACKEND_REF;
const OTHER = 'altcos/x86_64/p11';

describe('alt-ostreed revision resolution', () => {
  let bus: PrivateBus;
  let sysroot: TestSysroot;
  let world: BackendWorld | undefined;
  let daemon: RunningBackend;
  let client: Client;
  const c: FixtureCommit[] = [];
  let offBranch: FixtureCommit;

  const staged = async () => (await client.deployments()).find((d) => d['staged']) ?? null;
  const deploy = async (revision: string, o: Record<string, boolean | string>) =>
    runTransaction(String(await client.callOS('Deploy', revision, opts(o))));

  beforeAll(async () => {
    const repo = await createRepo();
    c.push(await repo.commit({ ref: REF, version: '41.20240101.0', timestamp: '2024-01-01 00:00:00' }));
    c.push(await repo.commit({ ref: REF, version: '41.20240201.0', timestamp: '2024-02-01 00:00:00' }));
    c.push(await repo.commit({ ref: REF, version: '41.20240301.0', timestamp: '2024-03-01 00:00:00' }));
    offBranch = await repo.commit({ ref: OTHER, version: '11.0', timestamp: '2024-04-01 00:00:00' });
    ({ sysroot, bus } = world = await startBackendWorld(repo, c[1]!.checksum));
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    client = await connectClient(bus.address);
  });

  afterAll(async () => {
    client?.close();
    await daemon?.stop();
    await world?.close();
  });

  it('pulls without staging with download-only, and stages nothing with dry-run', async () => {
    const r = await deploy(`revision=${c[2]!.checksum}`, { 'download-only': true });
    expect(r).toMatchObject({ success: true });
    expect(r.messages).toContain('Update downloaded.');
    expect(await deploy('version=41.20240301.0', { 'dry-run': true })).toMatchObject({ success: true });
    expect(await staged()).toBeNull();
  });

  it('resolves a version by walking the ref history and keeps the ref as origin', async () => {
    expect(await deploy('version=41.20240301.0', { 'lock-finalization': true })).toMatchObject({ success: true });
    expect(await staged()).toMatchObject({ checksum: c[2]!.checksum, version: '41.20240301.0', origin: `altcos:${REF}` });
    const origin = await sysroot.exec(['sh', '-c', `cat /ostree/deploy/altcos/deploy/${c[2]!.checksum}.*.origin`]);
    expect(origin.stdout).toContain(`override-commit=${c[2]!.checksum}`);
  });

  it('fails with rpm-ostree texts for an unknown version and a checksum that is not on the ref', async () => {
    expect(await deploy('version=99', {})).toMatchObject({ success: false, error: `Version 99 not found in ${REF}` });
    expect(await deploy(offBranch.checksum, {})).toMatchObject({ success: false, error: `Checksum ${offBranch.checksum} not found in ${REF}` });
  });

  it('stages an older release over a newer staged one only when downgrades are allowed', async () => {
    const refused = await runTransaction(
      String(await client.callOS('UpdateDeployment', opts({ 'set-revision': c[0]!.checksum }), opts({ 'skip-branch-check': true }))),
    );
    expect(refused.error).toMatch(/chronologically older/);
    const allowed = await runTransaction(
      String(
        await client.callOS(
          'UpdateDeployment',
          opts({ 'set-revision': c[0]!.checksum }),
          opts({ 'skip-branch-check': true, 'allow-downgrade': true }),
        ),
      ),
    );
    expect(allowed).toMatchObject({ success: true });
    expect(await staged()).toMatchObject({ checksum: c[0]!.checksum });
    expect(await staged()).not.toHaveProperty('finalization-locked');
  });

  it('refuses to finalize an unlocked staged deployment unless allow-unlocked', async () => {
    const r = await runTransaction(String(await client.callOS('FinalizeDeployment', opts({ checksum: c[0]!.checksum }))));
    expect(r).toMatchObject({ success: false, error: 'Staged deployment already unlocked' });
    expect(await sysroot.rebootCount()).toBe(0);
  });

  it('refuses Rollback while a deployment is staged', async () => {
    const r = await runTransaction(String(await client.callOS('Rollback', opts({}))));
    expect(r).toMatchObject({ success: false, error: 'Staged deployment (remove with cleanup -p)' });
  });

  it('with allow-unlocked retries only the reboot of an unlocked staged deployment', async () => {
    const r = await runTransaction(
      String(await client.callOS('FinalizeDeployment', opts({ checksum: c[0]!.checksum, 'allow-unlocked': true }))),
    );
    expect(r).toMatchObject({ success: true });
    expect(r.messages).toContain('Initiating reboot');
    expect(r.messages).not.toContain('Deployment unlocked for finalization');
    expect(await sysroot.rebootCount()).toBe(1);
  });
});
