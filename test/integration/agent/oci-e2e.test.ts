// The real agent process on a bootc host (ALT Atomic): a real registry with GPG-signed OS images,
// alt-graphd building the `oci` stream from it (the middle image a barrier), the real alt-ostreed
// with its bootc driver over the bootc stand-in on a fake-booted sysroot, private buses, 127.0.0.1.
//
// bootc 1.12 stages what the booted tag points at (docs/usage/alt-atomic.md), so the release
// pipeline here moves the hosts' tag `stable` to the release each host is to take next, as a
// publisher following its own barrier would; the graph lists every release tag from the start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/graphd.js';
import { createOciWorld, OCI_STREAM, OCI_TAG, type OciWorld } from '../../helpers/oci-world.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { agentToml, debugRecords, since } from './support.js';

const [V1, V2, V3, LOCAL] = ['20260101.0', '20260201.0', '20260301.0', '20260401.0'];

describe('alt-updated end to end on a bootc host (oci payloads)', () => {
  let world: OciWorld;
  let node: TestbedNode;
  const config = (url: string): string => agentToml(url, 'immediate', ['[identity]', `stream = "${OCI_STREAM}"`]);
  const events = (n: TestbedNode, from = 0): string[] => n.records.slice(from).map((r) => r.event ?? '').filter(Boolean);

  beforeAll(async () => {
    world = await createOciWorld({ versions: [V1, V2, V3, LOCAL], barriers: [V2] });
    node = await createTestbedNode({ name: 'atomic1', bootcHost: await world.host(), configToml: config(world.graphd.url), ...debugRecords });
  }, 60_000);
  afterAll(async () => {
    await node?.destroy();
    await world?.close();
  });

  it('polls steadily on the booted image and stages nothing while it is the newest', async () => {
    await node.start();
    await waitFor('two update checks without an update', () => events(node).filter((e) => e === 'no_update').length >= 2, 30_000);
    expect(events(node)).not.toContain('booted_not_in_graph');
    expect(await node.reboots()).toBe(0);
  });

  it('goes through the barrier image first, then to the newest, one reboot each', async () => {
    const v2 = await world.push(V2);
    const v3 = await world.push(V3);
    await world.push(V2, OCI_TAG);
    await waitFor('the reboot into the barrier', async () => (await node.reboots()) === 1, 60_000);
    await waitFor('update_finalized', () => events(node).includes('update_finalized'));
    expect(since(node, 0, 'update_found').map((r) => r['release'])).toEqual([V2]);
    expect(since(node, 0, 'update_staged')[0]).toMatchObject({ release: V2 });
    // The pipeline moves the tag on; the node boots into v2 and takes v3 from there.
    await world.push(V3, OCI_TAG);
    const mark = node.records.length;
    await node.powerCycleIfRebooted();
    expect(await node.bootedVersion()).toBe(V2);
    await waitFor('the reboot into the newest', async () => (await node.reboots()) === 2, 60_000);
    await waitFor('update_finalized from v2', () => events(node, mark).includes('update_finalized'));
    expect(events(node, mark)).toEqual(expect.arrayContaining(['update_found', 'update_staged', 'update_finalizing', 'update_finalized']));
    expect(since(node, mark, 'update_staged')[0]).toMatchObject({ release: V3 });
    await node.powerCycleIfRebooted();
    expect(await node.bootedVersion()).toBe(V3);
    const after = node.records.length;
    await waitFor('steady polling on the newest', () => events(node, after).filter((e) => e === 'no_update').length >= 2, 30_000);
    expect(await node.reboots()).toBe(2);
    expect(since(node, 0, 'update_staged').map((r) => r['release'])).toEqual([V2, V3]);
    expect([v2.digest, v3.digest]).not.toContain(world.images.get(V1)!.digest);
  });

  it('says why it leaves a fresh install (digest in no graph node) and a locally built image (containers-storage) alone', async () => {
    // A fresh install: an image under a tag that is no release, so the graph has no node for its digest.
    // A local image: APM's rebuild mode, booted through containers-storage (bootc reports that transport).
    await world.push(LOCAL, 'custom');
    const local = await world.host();
    await local.markBootedLocal('localhost/alt-atomic:custom');
    const [fresh, apm] = await Promise.all([
      world.host('custom').then((bootcHost) => createTestbedNode({ name: 'atomic2', bootcHost, configToml: config(world.graphd.url), ...debugRecords })),
      createTestbedNode({ name: 'atomic3', bootcHost: local, configToml: config(world.graphd.url), ...debugRecords }),
    ]);
    try {
      await Promise.all([fresh.start(), apm.start()]);
      await waitFor('booted_not_in_graph twice', () => events(fresh).filter((e) => e === 'booted_not_in_graph').length >= 2, 30_000);
      const [rec] = since(fresh, 0, 'booted_not_in_graph');
      expect(rec).toMatchObject({ oci: true, payload: `${world.imageName}@${world.images.get(LOCAL)!.digest}` });
      expect(rec!.msg).toContain('is not in the update graph (a fresh install');
      expect(events(fresh)).not.toContain('update_staged');
      expect(await fresh.reboots()).toBe(0);

      await waitFor('the local image host idles', () => events(apm).includes('local_image_booted'), 30_000);
      const ref = 'ostree-image-signed:containers-storage:localhost/alt-atomic:custom';
      expect(since(apm, 0, 'local_image_booted')).toEqual([expect.objectContaining({ image: ref, msg: `booted from a locally built image ${ref}; alt-updated leaves this host to its local tooling (APM)` })]);
      expect(events(apm)).toContain('steady_reported');
      expect(events(apm)).not.toContain('update_check_failed');
      expect(events(apm)).not.toContain('deployments_query_failed');
      expect(events(apm)).not.toContain('no_update');
      expect(await apm.reboots()).toBe(0);
    } finally {
      await Promise.all([fresh.destroy(), apm.destroy()]);
    }
  });
});
