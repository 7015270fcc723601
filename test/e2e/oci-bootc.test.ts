// The OCI path (ALT Atomic) on a real node: a real registry and the signatures' lookaside on the
// bridge, GPG-signed images of the real-node tree pushed with skopeo, alt-graphd building the `oci`
// stream from the registry (the middle image a barrier), and one systemd-nspawn node booted from
// the first image: its deployment is the commit the bootc stand-in (at /usr/bin/bootc in the image,
// test/stand-ins/bootc) imported from that image, its policy.json requires the key's signatures,
// alt-ostreed picks its bootc driver, and the node reboots through ostree-finalize-staged into each
// image as on the ostree path (one-node-two-releases.test.ts). bootc 1.12 stages what the booted
// tag points at, so the publisher here moves `stable` on once the node has the barrier staged.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/graphd.js';
import { validateJsonSchema } from '../helpers/json-schema.js';
import { createSigningKey, type SigningKey } from '../helpers/signing.js';
import { realNodeUnavailable } from '../realnode/available.js';
import { BASE_VERSION, type RealNodeImage } from '../realnode/image.js';
import { createNetwork, type RealNodeNetwork } from '../realnode/network.js';
import type { RealNode } from '../realnode/node.js';
import { createRealOciWorld, REALNODE_OCI_TAG, standinState, type RealOciWorld } from '../realnode/oci.js';
import { agentConfig, DEBUG_LOG_DROPIN, diagnoseOnFailure, events, type JournalRecord, loadImage, logFileSummary, probeBoot, readJournal } from '../realnode/scenario.js';

const [V1, V2, V3, UNSIGNED, STRANGER] = [BASE_VERSION, '20261115.0.0', '20261122.0.0', '20261129.0.0', '20261206.0.0'];
const CREATED: readonly (readonly [string, string])[] = [
  [V1, '2026-11-01T00:00:00Z'],
  [V2, '2026-11-15T00:00:00Z'],
  [V3, '2026-11-22T00:00:00Z'],
  [UNSIGNED, '2026-11-29T00:00:00Z'],
  [STRANGER, '2026-12-06T00:00:00Z'],
];

/** bootc's published status schema (bootc-dev/bootc docs/src/host-v1.schema.json). */
const HOST_SCHEMA = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/bootc/host-v1.schema.json'), 'utf8')) as Record<string, unknown>;

const unavailable = await realNodeUnavailable();
if (unavailable !== null) console.warn(unavailable);

/** `bootc status --format=json` of the stand-in inside the node: the fields the test reads. */
interface BootcStatus {
  readonly status: {
    readonly type: string | null;
    readonly booted: { readonly image: { readonly image: { readonly image: string }; readonly imageDigest: string; readonly version: string } | null; readonly ostree: { readonly checksum: string } } | null;
    readonly staged: unknown;
  };
}

describe.skipIf(unavailable !== null)('real node booted from an OCI image: signed images from a real registry through a barrier, bootc driver', () => {
  let image: RealNodeImage;
  let network: RealNodeNetwork | undefined;
  let world: RealOciWorld | undefined;
  let node: RealNode | undefined;
  let stranger: SigningKey | undefined;
  let cannotBoot: string | null = null;
  const started = Date.now();

  const journal = (args: readonly string[]): Promise<JournalRecord[]> => readJournal(node!, args);
  /** `bootc status --format=json` inside the node, checked against bootc's schema at every read. */
  const bootcStatus = async (): Promise<BootcStatus> => {
    const doc: unknown = JSON.parse((await node!.exec(['bootc', 'status', '--format=json'])).stdout);
    expect(validateJsonSchema(HOST_SCHEMA, doc)).toEqual([]);
    return doc as BootcStatus;
  };
  const agentRecords = (boot: string): Promise<JournalRecord[]> => journal(['-b', boot, '-u', 'alt-updated']);
  const withEvent = (recs: readonly JournalRecord[], e: string): JournalRecord[] => recs.filter((r) => new RegExp(`\\bevent=${e}\\b`).test(r.MESSAGE));

  beforeAll(async () => {
    image = await loadImage();
    cannotBoot = await probeBoot(image);
    if (cannotBoot !== null) return;
    network = await createNetwork();
    const t = Date.now();
    world = await createRealOciWorld(image, network, { versions: CREATED, barriers: [V2] });
    node = await world.createNode({ index: 1, name: 'atomic1', configToml: agentConfig(world.graphd.url, 'immediate'), unitDropIns: DEBUG_LOG_DROPIN });
    console.info(`real-node oci world (registry, images, node installed from ${V1}): ${((Date.now() - t) / 1000).toFixed(1)} s`);
    await node.start();
  }, 900_000);

  diagnoseOnFailure(() => [node]);

  afterAll(async () => {
    await node?.destroy();
    await world?.close();
    await network?.destroy();
    await stranger?.close();
    logFileSummary(started, node);
  }, 120_000);

  it('boots the commit the stand-in imported from the first image, and alt-ostreed takes the bootc driver', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = node!;
    await n.waitBooted(1, 120_000);
    expect(await n.bootedVersion()).toBe(V1);
    const st = await bootcStatus();
    const v1 = world!.images.get(V1)!;
    expect(st.status.type).toBe('bootcHost');
    expect(st.status.booted?.image).toMatchObject({ image: { image: `${world!.imageName}:${REALNODE_OCI_TAG}` }, imageDigest: v1.digest, version: V1 });
    const state = await standinState(n);
    expect(state.images[st.status.booted!.ostree.checksum]).toMatchObject({ digest: v1.digest, version: V1 });
    // The stand-in is what /usr/bin/bootc is in the image, and says so.
    expect((await n.exec(['cat', '/usr/bin/bootc'])).stdout).toMatch(/STAND-IN for bootc/);
    await waitFor('two checks on the first image', async () => events(await agentRecords('0')).filter((e) => e === 'no_update').length >= 2, 120_000);
    expect(events(await agentRecords('0'))).not.toContain('booted_not_in_graph');
    const ostreed = (await journal(['-b', '0', '-u', 'alt-ostreed'])).map((r) => r.MESSAGE).join('\n');
    expect(ostreed).toMatch(/host driver: bootc/);
  }, 300_000);

  it('goes through the barrier image, then to the newest, one real reboot each, booting the digests the graph chose', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = node!;
    const w = world!;
    // `stable` last: a simple signature names the tag it was pushed under, and the lookaside keeps one
    // per digest, so the last push's is what the node checks when it pulls `stable`. The graph sees
    // the new tags at the refresh, once `stable` points at v2 (alt-graphd polls only when asked here).
    const v2 = await w.push(V2);
    await w.push(V3);
    await w.push(V2, REALNODE_OCI_TAG);
    await w.graphd.service.refresh();
    // The publisher follows its barrier: `stable` moves on once the node has v2 staged.
    await waitFor('update_staged for the barrier', async () => withEvent(await agentRecords('0'), 'update_staged').some((r) => r.MESSAGE.includes(`release=${V2}`)), 240_000);
    const v3 = await w.push(V3, REALNODE_OCI_TAG);
    await n.waitBooted(2, 240_000);
    expect(await n.bootedVersion()).toBe(V2);
    expect((await bootcStatus()).status.booted?.image?.imageDigest).toBe(v2.digest);
    await n.waitBooted(3, 300_000);
    expect(await n.bootedVersion()).toBe(V3);
    const st = await bootcStatus();
    expect(st.status.booted?.image).toMatchObject({ imageDigest: v3.digest, version: V3 });
    await waitFor('two checks on the newest image', async () => events(await agentRecords('0')).filter((e) => e === 'no_update').length >= 2, 120_000);
    expect(n.boots.map((b) => b.exitCode)).toEqual([133, 133, null]);

    // Each boot found the image the graph chose (payload: name@digest) and staged it; the barrier first.
    const first = await agentRecords('-2');
    const second = await agentRecords('-1');
    expect(withEvent(first, 'update_found').map((r) => r.MESSAGE)).toEqual([expect.stringContaining(`payload=${w.imageName}@${v2.digest}`)]);
    expect(withEvent(first, 'update_staged')[0]?.MESSAGE).toContain(`release=${V2}`);
    expect(withEvent(second, 'update_found').map((r) => r.MESSAGE)).toEqual([expect.stringContaining(`payload=${w.imageName}@${v3.digest}`)]);
    expect(withEvent(second, 'update_staged')[0]?.MESSAGE).toContain(`release=${V3}`);
    for (const recs of [first, second]) for (const e of ['update_finalizing']) expect(events(recs)).toContain(e);
    const finalize = (await journal(['-b', '-1', '-u', 'ostree-finalize-staged.service'])).map((r) => r.MESSAGE).join('\n');
    expect(finalize).toMatch(/Bootloader updated/);
    // The second pull moved only the small layer: the base layer was imported once, by the skeleton.
    const refs = (await n.exec(['ostree', '--repo=/sysroot/ostree/repo', 'refs'])).stdout.split('\n').filter((r) => r.startsWith('ostree/container/blob/'));
    expect(refs.sort()).toEqual([...new Set([v2, v3, w.images.get(V1)!].flatMap((i) => i.layers.map((l) => `ostree/container/blob/${l.digest.replace(':', '_')}`)))].sort());
    // skopeo reused the base blob it had (linked in from the cache at install): never fetched nor rewritten.
    const base = w.images.get(V1)!.layers[0]!;
    const nodeBlob = statSync(join(n.sysroot, 'ostree/bootc-standin/oci/blobs/sha256', base.digest.slice(7)));
    const cached = statSync(base.path);
    if (nodeBlob.dev === cached.dev) expect(nodeBlob.ino).toBe(cached.ino);
  }, 900_000);

  /** Pushes `version` signed by `signer` (null: unsigned) under its tag and `stable`; the node must refuse it. */
  const refused = async (version: string, signer: SigningKey | null): Promise<void> => {
    const n = node!;
    const w = world!;
    const img = await w.push(version, version, signer);
    await w.push(version, REALNODE_OCI_TAG, signer); // `stable` last, as above
    await w.graphd.service.refresh();
    const refusals = async (): Promise<JournalRecord[]> => withEvent(await agentRecords('0'), 'update_refused').filter((r) => r.MESSAGE.includes(`release=${version}`));
    await waitFor(`update_refused for ${version}`, async () => (await refusals()).length > 0, 240_000);
    const [rec] = await refusals();
    // The typed refusal names the image (by the digest the graph chose) and the policy.
    expect(rec!.MESSAGE).toContain('reason=signature_policy');
    expect(rec!.MESSAGE).toContain(`${w.imageName}@${img.digest}`);
    expect(rec!.MESSAGE).toContain('/etc/containers/policy.json');
    expect(rec!.MESSAGE).toContain('Source image rejected');
    // Abandoned, not retried at every check: a few more checks (2 s apart) bring no second refusal.
    const after = async (): Promise<string[]> => {
      const recs = await agentRecords('0');
      return events(recs.filter((r) => Number(r.__REALTIME_TIMESTAMP) > Number(rec!.__REALTIME_TIMESTAMP)));
    };
    await waitFor('five agent events after the refusal', async () => (await after()).length >= 5, 120_000);
    expect(await refusals()).toHaveLength(1);
    expect((await bootcStatus()).status.staged).toBeNull();
    expect(await n.bootedVersion()).toBe(V3);
  };
  const refusedTotal = async (): Promise<string> =>
    (await node!.exec(['node', '-e', "require('net').connect('/run/alt-updated/public/metrics.promsock').pipe(process.stdout)"])).stdout;

  it('refuses an unsigned image under the node policy, abandons that release and counts it', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    await refused(UNSIGNED, null);
    expect(await refusedTotal()).toMatch(/update_agent_refused_releases_total\{reason="signature_policy"\} 1\b/);
  }, 400_000);

  it('refuses an image signed by another key the same way', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    stranger = await createSigningKey('not the ALT Atomic key');
    await refused(STRANGER, stranger);
    expect(await refusedTotal()).toMatch(/update_agent_refused_releases_total\{reason="signature_policy"\} 2\b/);
  }, 400_000);
});
