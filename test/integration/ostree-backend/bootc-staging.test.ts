// alt-ostreed's bootc driver on a bootc host, through rpm-ostree's D-Bus API as the agent speaks it:
// a real registry (docker-registry), images signed with GPG simple signing by skopeo, a policy.json
// that requires those signatures, the bootc stand-in (test/stand-ins/bootc) doing the real pull,
// import and locked `--stage` into a real fake-booted ostree sysroot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { createOstreeClient } from '../../../src/ostree/client/index.js';
import { parseDeploymentSet } from '../../../src/ostree/client/parse.js';
import { deploymentPayload } from '../../../src/ostree/deployment.js';
import { refusalReason } from '../../../src/ostree/verification.js';
import { startBackend, type RunningBackend } from '../../helpers/alt-ostreed.js';
import { buildOsImage, createBootcHost, createSignatureStore, pushImage, type BootcTestHost, type OsImage, type SignatureStore } from '../../helpers/bootc-host.js';
import { startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';
import { validateJsonSchema } from '../../helpers/json-schema.js';
import { startRegistry, type TestRegistry } from '../../helpers/oci-registry.js';
import { createSigningKey, type SigningKey } from '../../helpers/signing.js';
import { connectClient, opts, runTransaction, type Client, type Dict } from './rpmostree-client.js';

const REPO = 'alt/atomic';
const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/bootc/host-v1.schema.json'), 'utf8')) as Record<string, unknown>;

describe('alt-ostreed on a bootc host', () => {
  let registry: TestRegistry;
  let store: SignatureStore;
  let trusted: SigningKey;
  let stranger: SigningKey;
  let host: BootcTestHost;
  let bus: PrivateBus;
  let daemon: RunningBackend;
  let client: Client;
  const img: Record<'v1' | 'v2' | 'v3' | 'unsigned' | 'strangers', OsImage> = {} as never;
  let tagged = '';
  let work = '';

  const push = async (which: keyof typeof img, key: SigningKey | null) => pushImage(registry, store, REPO, 'stable', img[which], key);
  const staged = async (): Promise<Dict | null> => (await client.deployments()).find((d) => d['staged']) ?? null;
  /** What the agent sends for a graph payload `<repo>@sha256:…` (Zincati: `deploy --lock-finalization <digest>`). */
  const deploy = async (image: OsImage) =>
    runTransaction(String(await client.callOS('Deploy', `${tagged.replace(/:stable$/, '')}@${image.digest}`, opts({ 'lock-finalization': true, 'allow-downgrade': false }))));

  beforeAll(async () => {
    [registry, trusted, stranger, bus] = await Promise.all([startRegistry(), createSigningKey('ALT Atomic images'), createSigningKey('a stranger'), startPrivateBus()]);
    work = await mkdtemp(join(tmpdir(), 'alt-bootc-test-'));
    store = await createSignatureStore(work);
    img.v1 = await buildOsImage(work, '20260101.0', '2026-01-01T00:00:00Z');
    img.v2 = await buildOsImage(work, '20260201.0', '2026-02-01T00:00:00Z');
    img.v3 = await buildOsImage(work, '20260301.0', '2026-03-01T00:00:00Z');
    img.unsigned = await buildOsImage(work, '20260202.0', '2026-02-02T00:00:00Z');
    img.strangers = await buildOsImage(work, '20260203.0', '2026-02-03T00:00:00Z');
    tagged = `${registry.host}/${REPO}:stable`;
    await push('v1', trusted);
    host = await createBootcHost({ registry, store, image: tagged, trusted });
    daemon = await startBackend({ busAddress: bus.address, sysroot: host, extraConfig: `[bootc]\ndriver = "auto"\npath = ${JSON.stringify(host.bootc)}\npolicy = ${JSON.stringify(host.policy)}` });
    client = await connectClient(bus.address);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await daemon?.stop();
    await bus?.stop();
    await registry?.stop();
    await host?.destroy();
    await trusted?.close();
    await stranger?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('chooses the bootc driver and reports the booted image with rpm-ostree container keys', async () => {
    expect(daemon.output()).toContain('host driver: bootc');
    const [booted] = await client.deployments();
    expect(booted).toMatchObject({
      booted: true,
      osname: 'alt-atomic',
      version: '20260101.0',
      'container-image-reference': `ostree-image-signed:docker://${tagged}`,
      'container-image-reference-digest': img.v1.digest,
    });
    expect(booted).not.toHaveProperty('origin');
  });

  it("is read by the agent's own parser as the graph payload <image>@<digest>", async () => {
    const props = (await client.bus.getProxyObject('org.projectatomic.rpmostree1', '/org/projectatomic/rpmostree1/Sysroot')).getInterface('org.freedesktop.DBus.Properties');
    const raw = (await props.Get!('org.projectatomic.rpmostree1.Sysroot', 'Deployments')) as { value: unknown };
    const set = parseDeploymentSet(raw.value);
    expect(set.booted && deploymentPayload(set.booted)).toBe(`${registry.host}/${REPO}@${img.v1.digest}`);
  });

  it("prints status JSON valid under bootc's published schema", async () => {
    const doc: unknown = JSON.parse(await host.bootcRun(['status', '--format=json', '--format-version=1']));
    expect(validateJsonSchema(schema, doc)).toEqual([]);
  });

  it.each([
    ['unsigned', null],
    ['strangers', 'stranger'],
  ] as const)('refuses the %s image under the policy, naming image and policy, and stages nothing', async (which, signer) => {
    await push(which, signer ? stranger : null);
    const r = await deploy(img[which]);
    expect(r.success).toBe(false);
    expect(r.error).toContain(`image ${registry.host}/${REPO}@${img[which].digest} refused by verification (signature_policy): policy ${host.policy}: `);
    expect(r.error).toContain('Source image rejected');
    // The agent's classifier: a refusal, abandoned at once and counted with this reason.
    expect(refusalReason(r.error)).toBe('signature_policy');
    expect(await staged()).toBeNull();
  });

  it('stages exactly the requested digest, finalization locked', async () => {
    await push('v2', trusted);
    const r = await deploy(img.v2);
    expect(r).toMatchObject({ success: true });
    expect(await staged()).toMatchObject({ 'container-image-reference-digest': img.v2.digest, 'finalization-locked': true, version: '20260201.0' });
    // A locked staged deployment survives a reboot unfinalized (ostree's own lock).
    await host.simulateReboot();
    await client.callSysroot('Reload');
    expect((await client.deployments()).find((d) => d['booted'])).toMatchObject({ 'container-image-reference-digest': img.v1.digest });
  });

  it('discards what the tag points at when it is not the digest the graph chose', async () => {
    await push('v3', trusted);
    const r = await deploy(img.v2);
    expect(r.success).toBe(false);
    expect(r.error).toBe(`Staged image digest ${img.v3.digest} is not the requested ${img.v2.digest} (the tag ${tagged} moved); discarded`);
    expect(await staged()).toBeNull();
  });

  it("is staged and finalized by the agent's own client from the graph payload, and the node reboots into it", async () => {
    // What tick-stage and tick-staged do for an `oci` release: stage(payload), finalize(payload).
    const agentClient = createOstreeClient({ clock: systemClock(), logger: memoryLogger(), busAddress: bus.address, clientId: 'agent-test' });
    const release = { version: '20260301.0', payload: `${tagged.replace(/:stable$/, '')}@${img.v3.digest}`, ageIndex: 3, scheme: 'oci' as const };
    const before = await host.rebootCount();
    try {
      const st = await agentClient.stage(release, { allowDowngrade: false, confirmStream: false });
      expect(deploymentPayload(st)).toBe(release.payload);
      expect(st.finalizationLocked).toBe(true);
      await agentClient.finalize(release.payload);
    } finally {
      await agentClient.close();
    }
    expect(await host.rebootCount()).toBe(before + 1);
    await client.callSysroot('Reload');
    const [first] = await client.deployments();
    expect(first).toMatchObject({ booted: true, version: '20260301.0', 'container-image-reference-digest': img.v3.digest });
  });

  it('rolls back with bootc rollback: the previous image is the next boot', async () => {
    expect(await client.osProp('RollbackDeployment')).toMatchObject({ 'container-image-reference-digest': img.v1.digest });
    const r = await runTransaction(String(await client.callOS('Rollback', opts({ reboot: false }))));
    expect(r).toMatchObject({ success: true });
    expect(await client.osProp('DefaultDeployment')).toMatchObject({ version: '20260101.0', 'container-image-reference-digest': img.v1.digest });
    expect((await client.deployments()).find((d) => d['booted'])).toMatchObject({ 'container-image-reference-digest': img.v3.digest });
  });
});
