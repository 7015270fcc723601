// A staged release the graph withdraws (issue 11 item 5), with real parts: the real agent stages a
// release from the real alt-graphd, the strategy holds the reboot back, then a release policy takes
// the release's edges away (pulled). The agent must remove the staged deployment from alt-ostreed,
// go back to polling, and never reboot into it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/graphd.js';
import type { TestbedNode } from '../../helpers/testbed-node.js';
import { deployments, since, startHeldBackNode, type HeldBackNode } from './support.js';

describe('alt-updated and a release withdrawn from the graph', () => {
  let world: HeldBackNode | undefined;
  let node: TestbedNode;
  let graphd: HeldBackNode['graphd'];
  let v1: string;

  beforeAll(async () => {
    ({ node, graphd, booted: v1 } = world = await startHeldBackNode());
  });
  afterAll(async () => {
    await world?.close();
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
