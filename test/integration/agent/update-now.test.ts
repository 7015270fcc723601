// `alt-updatectl update-now` against the real agent process (issue 11 items 1-2): a request its tick
// cannot serve fails over D-Bus with the reason and leaves nothing armed; with logind gone
// (fakeLogindForTest stopped: org.freedesktop.login1 has no owner) it is the way out, and reboots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/graphd.js';
import type { TestbedNode } from '../../helpers/testbed-node.js';
import { since, startHeldBackNode, updatectl, type HeldBackNode } from './support.js';

const INHIBITOR = ['shutdown', 'backup-tool', 'nightly backup running', 'block', 0, 1] as const;

describe('alt-updatectl update-now serves one tick', () => {
  let world: HeldBackNode | undefined;
  let node: TestbedNode;

  beforeAll(async () => {
    ({ node } = world = await startHeldBackNode());
  });
  afterAll(async () => {
    await world?.close();
  });

  it('fails with the reason when a block inhibitor stops its tick, and the next ticks ask the strategy again', async () => {
    node.logind.inhibitors.push([...INHIBITOR]);
    const r = await updatectl(['update-now', '--bus-address', node.bus.address]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('AGENT_UPDATE_NOW_FAILED');
    expect(r.stderr).toContain('nightly backup running');
    expect(node.records.some((x) => x.event === 'update_now_failed')).toBe(true);

    // The blocked tick waits 60 s for the next one; "check now" runs it at once.
    node.logind.inhibitors.length = 0;
    const mark = node.records.length;
    expect((await updatectl(['check', '--bus-address', node.bus.address])).code).toBe(0);
    expect(since(node, mark, 'finalization_denied')).toHaveLength(1);
    expect((await updatectl(['check', '--bus-address', node.bus.address])).code).toBe(0);
    expect(since(node, mark, 'update_finalizing')).toHaveLength(0);
    expect(await node.reboots()).toBe(0);
  });

  it('finalizes and reboots when logind cannot be asked at all', async () => {
    node.logind.stop();
    const mark = node.records.length;
    const r = await updatectl(['update-now', '--bus-address', node.bus.address]);
    expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('staged update finalized') });
    expect(since(node, mark, 'inhibitor_check_skipped')).toHaveLength(1);
    await waitFor('the simulated reboot', async () => (await node.reboots()) === 1);
  });
});
