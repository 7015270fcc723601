// A staged release the graph withdraws (issue 11 item 5), with real parts: the real agent stages a
// release from the real alt-graphd, the strategy holds the reboot back, then a release policy takes
// the release's edges away (pulled). The agent must remove the staged deployment from alt-ostreed,
// go back to polling, and never reboot into it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { agentToml, debugRecords, deployments, REF, since } from './support.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

describe('alt-updated and a release withdrawn from the graph', () => {
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let node: TestbedNode;
  let v1: string;

  beforeAll(async () => {
    repo = await createRepo();
    v1 = (await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' })).checksum;
    await repo.commit({ ref: REF, version: '20261115.0.0' });
    http = await serveDir(repo.path);
    graphd = await startTestGraphd({ repoPath: repo.path });
    // A periodic window three days away: the strategy keeps the reboot back for the whole test.
    const day = DAYS[(new Date().getUTCDay() + 3) % 7]!;
    const window = ['[updates.periodic]', 'time_zone = "UTC"', '[[updates.periodic.window]]', `days = ["${day}"]`, 'start_time = "12:00"', 'length_minutes = 1'];
    node = await createTestbedNode({ name: 'node1', repoUrl: http.url, ref: REF, commit: v1, ...debugRecords, configToml: agentToml(graphd.url, 'periodic', window) });
    await node.start();
    await waitFor('the staged update held back by the strategy', () => node.records.some((r) => r.event === 'finalization_denied'));
  });
  afterAll(async () => {
    await node?.destroy();
    await graphd?.close();
    await http?.close();
  });

  it('removes the staged deployment once the graph no longer offers the release, and does not stage it again', async () => {
    expect((await deployments(node)).staged?.finalizationLocked).toBe(true);
    const mark = node.records.length;
    // A policy entry without a rollout: the release gets no incoming edges (pulled).
    await graphd.writePolicy('sisyphus', { stream: 'sisyphus', releases: [{ version: '20261115.0.0', metadata: {} }] });
    await graphd.service.refresh();
    await waitFor('the withdrawal noticed', () => since(node, mark, 'staged_release_withdrawn').length === 1);
    await waitFor('polling again', () => since(node, mark, 'no_update').length >= 2);
    const set = await deployments(node);
    expect(set.staged).toBeNull();
    expect(set.deployments.map((d) => d.checksum)).toEqual([v1]);
    expect(since(node, mark, 'pending_deployment_removed')).toMatchObject([{ release: '20261115.0.0', reason: 'withdrawn' }]);
    expect(since(node, mark, 'update_found')).toHaveLength(0);
    expect(await node.reboots()).toBe(0);
  });
});
