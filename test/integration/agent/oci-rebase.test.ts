// A rebase on a bootc host, end to end: the graph's next release is an image in another repository
// of the same real registry (alt/atomic -> alt/atomic-next), as when a distribution renames its image.
// The real agent stages it through the real alt-ostreed, whose bootc driver runs `bootc switch
// --download-only` on the stand-in (impersonating a bootc with that verb, bootc-dev/bootc#2342):
// a real signed pull under policy.json, the real locked `--stage`, one reboot into the new image,
// and steady polling there. alt-graphd builds one repository per stream, so the cross-repository
// graph is served by hand (Cincinnati JSON, the `oci` scheme, as Fedora's server would publish it).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOsImage, pushImage, type BootcTestHost } from '../../helpers/bootc-host.js';
import { waitFor } from '../../helpers/graphd.js';
import { createOciWorld, OCI_STREAM, OCI_TAG, type OciWorld } from '../../helpers/oci-world.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { agentToml, debugRecords, since } from './support.js';

const [V1, V2] = ['20260101.0', '20260201.0'];
const NEXT_REPO = 'alt/atomic-next';

/** A static Cincinnati graph server; `set` replaces what it answers. */
async function serveGraph(): Promise<{ url: string; set(graph: unknown): void; close(): Promise<void> }> {
  let body = JSON.stringify({ nodes: [], edges: [] });
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set: (graph) => void (body = JSON.stringify(graph)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const node = (version: string, payload: string, age: number) => ({
  version,
  payload,
  metadata: { 'org.fedoraproject.coreos.scheme': 'oci', 'org.fedoraproject.coreos.releases.age_index': String(age) },
});

describe('a bootc host rebasing to an image in another repository', () => {
  let world: OciWorld;
  let graph: Awaited<ReturnType<typeof serveGraph>>;
  let host: TestbedNode;
  let bootc: BootcTestHost;
  let work = '';
  const events = (from = 0): string[] => host.records.slice(from).map((r) => r.event ?? '').filter(Boolean);

  beforeAll(async () => {
    [world, graph] = await Promise.all([createOciWorld({ versions: [V1] }), serveGraph()]);
    work = await mkdtemp(join(tmpdir(), 'alt-oci-rebase-'));
    const v1 = world.images.get(V1)!;
    graph.set({ nodes: [node(V1, `${world.imageName}@${v1.digest}`, 0)], edges: [] });
    host = await createTestbedNode({
      name: 'rebase1',
      bootcHost: (bootc = await world.host(OCI_TAG, { switchDownloadOnly: true })),
      configToml: agentToml(graph.url, 'immediate', ['[identity]', `stream = "${OCI_STREAM}"`]),
      ...debugRecords,
    });
  }, 60_000);
  afterAll(async () => {
    await host?.destroy();
    await graph?.close();
    await world?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('stages the other image locked with bootc switch, reboots once into it and stays there', async () => {
    await host.start();
    await waitFor('an update check on v1', () => events().includes('no_update'), 30_000);
    // The new repository carries the channel tag the hosts follow (bootc stages what it points at).
    const v2 = await buildOsImage(work, V2, '2026-02-01T00:00:00Z');
    await pushImage(world.registry, world.store, NEXT_REPO, OCI_TAG, v2, world.key);
    const next = `${world.registry.host}/${NEXT_REPO}`;
    graph.set({ nodes: [node(V1, `${world.imageName}@${world.images.get(V1)!.digest}`, 0), node(V2, `${next}@${v2.digest}`, 1)], edges: [[0, 1]] });

    await waitFor('the reboot into the other image', async () => (await host.reboots()) === 1, 90_000);
    await waitFor('update_finalized', () => events().includes('update_finalized'));
    expect(since(host, 0, 'update_rebase')[0]).toMatchObject({ release: V2, from: world.imageName, to: next });
    expect(since(host, 0, 'update_staged').map((r) => r['release'])).toEqual([V2]);
    await host.powerCycleIfRebooted();
    expect(await host.bootedVersion()).toBe(V2);
    const status = JSON.parse(await bootc.bootcRun(['status', '--format=json'])) as {
      spec: { image: { image: string } };
      status: { booted: { image: { imageDigest: string } }; staged: unknown };
    };
    expect(status.spec.image.image).toBe(`${next}:${OCI_TAG}`);
    expect(status.status.booted.image.imageDigest).toBe(v2.digest);
    expect(status.status.staged).toBeNull();

    const mark = host.records.length;
    await waitFor('steady polling on the new image', () => events(mark).filter((e) => e === 'no_update').length >= 2, 30_000);
    expect(events(mark)).not.toContain('booted_not_in_graph');
    expect(await host.reboots()).toBe(1);
  });
});
