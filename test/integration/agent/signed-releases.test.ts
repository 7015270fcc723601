// The real agent, alt-ostreed and alt-graphd on a node whose remote requires OpenPGP signatures
// (real gpg keys, real `ostree gpg-sign`): an unsigned release offered by the graph is refused by
// the backend, abandoned at once, counted and logged at error priority, and the node stays on the
// booted release; the next, signed release is staged and rebooted into.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { createSigningKey, fixtureSigningKey, requireSignatures, type SigningKey } from '../../helpers/signing.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { agentMetric, agentToml, debugRecords, REF, since } from './support.js';

describe('alt-updated with signed releases', () => {
  let key: SigningKey;
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let node: TestbedNode;

  beforeAll(async () => {
    key = await createSigningKey('alt releases');
    repo = await createRepo(undefined, { sign: false });
    const v1 = await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' });
    // The fixture sysroot's remote trusts the fixture key: the booted commit carries both signatures.
    await (await fixtureSigningKey()).sign(repo.path, v1.checksum);
    await key.sign(repo.path, v1.checksum);
    http = await serveDir(repo.path);
    graphd = await startTestGraphd({ repoPath: repo.path });
    node = await createTestbedNode({ name: 'node1', repoUrl: http.url, ref: REF, ...debugRecords, configToml: agentToml(graphd.url, 'immediate') });
    await requireSignatures(join(node.sysroot.path, 'ostree/repo'), node.sysroot.remote, [key]);
    await node.start();
    await waitFor('steady polling', () => node.records.some((r) => r.event === 'no_update'));
  });

  afterAll(async () => {
    await node?.destroy();
    await graphd?.close();
    await http?.close();
    await key?.close();
  });

  it('refuses an unsigned release once, abandons it, counts and logs it, and stays on the booted release', async () => {
    const from = node.records.length;
    const v2 = await repo.commit({ ref: REF, version: '20261108.0.0', timestamp: '2026-11-08 00:00:00' });
    await waitFor('the refusal', () => since(node, from, 'update_refused').length === 1);
    const [refusal] = since(node, from, 'update_refused');
    expect(refusal).toMatchObject({ level: 50, release: '20261108.0.0', payload: v2.checksum, reason: 'unsigned' });
    expect(String(refusal!['err'])).toContain(`commit ${v2.checksum} refused by verification (unsigned)`);
    // Several more polls: no second attempt, no reboot.
    const after = node.records.length;
    await waitFor('three more checks', () => since(node, after).filter((r) => r.event === 'no_update').length >= 3);
    expect(since(node, from, 'stage_started')).toHaveLength(1);
    expect(await agentMetric(node, 'alt_updated_update_agent_refused_releases_total{reason="unsigned"}')).toBe(1);
    expect(await node.reboots()).toBe(0);
    expect(await node.bootedVersion()).toBe('20261101.0.0');
  });

  it('stages and reboots into the next release once it is signed', async () => {
    const v3 = await repo.commit({ ref: REF, version: '20261115.0.0', timestamp: '2026-11-15 00:00:00' });
    await key.sign(repo.path, v3.checksum);
    await waitFor('the simulated reboot', async () => (await node.reboots()) === 1);
    await node.powerCycleIfRebooted();
    expect(await node.sysroot.bootedChecksum()).toBe(v3.checksum);
  });
});
