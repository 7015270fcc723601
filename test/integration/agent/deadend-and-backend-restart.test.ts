// The real agent process (immediate strategy) against the real alt-graphd, alt-ostreed and a
// fake-booted sysroot: the dead-end notice follows the graph's policy for the booted release, and a
// backend killed in the middle of a stage is a typed, retried failure that ends in one clean update.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createTestbedNode, type AgentRecord, type TestbedNode } from '../../helpers/testbed-node.js';
import { agentToml, debugRecords, deployments, REF, since, updatectl } from './support.js';

const REASON = 'https://bugzilla.altlinux.org/101 kernel regression';

describe('alt-updated with the immediate strategy: dead-end notice and backend restart mid-stage', () => {
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let node: TestbedNode;
  let v1: string;
  let motd: string;
  // Runs once when the agent logs `event` (from the record callback, without awaiting it).
  let onEvent: { event: string; run: () => Promise<void>; done: Promise<void> | null } | null = null;

  const onRecord = (name: string, rec: AgentRecord): void => {
    debugRecords.onRecord?.(name, rec);
    if (onEvent !== null && onEvent.done === null && rec.event === onEvent.event) onEvent.done = onEvent.run();
  };
  const readMotd = (): Promise<string | null> => readFile(motd, 'utf8').catch(() => null);

  beforeAll(async () => {
    repo = await createRepo();
    v1 = (await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' })).checksum;
    http = await serveDir(repo.path);
    graphd = await startTestGraphd({
      repoPath: repo.path,
      policies: { sisyphus: { stream: 'sisyphus', releases: [{ version: '20261101.0.0', metadata: { deadend: { reason: REASON } } }] } },
    });
    node = await createTestbedNode({ name: 'immediate', repoUrl: http.url, ref: REF, onRecord, configToml: agentToml(graphd.url, 'immediate') });
    motd = join(node.root, 'run/motd.d/85-alt-updated-deadend.motd');
  });
  afterAll(async () => {
    await node?.destroy();
    await graphd?.close();
    await http?.close();
  });

  it('shows the dead-end notice with the policy reason for a dead-end booted release, and removes it when the policy changes', async () => {
    expect(await readMotd()).toBeNull();
    await node.start();
    await waitFor('the dead-end notice', async () => (await readMotd()) !== null);
    expect(await readMotd()).toBe(`This release is a dead-end and will not further auto-update: ${REASON}\n`);
    expect(node.records.filter((r) => r.event === 'deadend_set').map((r) => r.reason)).toEqual([REASON]);

    await graphd.writePolicy('sisyphus', { stream: 'sisyphus', releases: [] });
    await graphd.service.refresh();
    await waitFor('the notice to be removed', async () => (await readMotd()) === null);
    await waitFor('the deadend_cleared event', () => node.records.some((r) => r.event === 'deadend_cleared'));
    // Still set once only: the notice is not rewritten on every check.
    expect(node.records.filter((r) => r.event === 'deadend_set')).toHaveLength(1);
    expect(node.records.some((r) => r.event === 'update_found')).toBe(false);
    expect(await node.reboots()).toBe(0);
  });

  it('a backend killed mid-stage is a typed stage failure; the retry stages once and reboots once, leaving no stray deployment', async () => {
    const mark = node.records.length;
    // Killed while the backend runs the stage transaction (its first task, the pull, has begun).
    onEvent = { event: 'transaction_task_begin', run: () => node.restartBackend(), done: null };
    const v2 = (await repo.commit({ ref: REF, version: '20261115.0.0' })).checksum;
    await graphd.service.refresh();
    await waitFor('the stage failure', () => since(node, mark, 'stage_failed').length === 1);
    await onEvent.done;
    const failure = since(node, mark, 'stage_failed')[0]!;
    expect(failure).toMatchObject({ release: '20261115.0.0', attempts: 1 });
    expect(String(failure.err)).toMatch(/ostree backend went away|ostree backend unavailable/);
    expect(node.agent()?.exitCode).toBeNull();
    expect(await node.reboots()).toBe(0);

    // The automatic retry comes after 300 s (Zincati's refresh period); the operator's "check now"
    // wakes the same tick at once.
    const r = await updatectl(['check', '--bus-address', node.bus.address]);
    expect(r.code).toBe(0);
    await waitFor('the simulated reboot', async () => (await node.reboots()) === 1);
    await waitFor('the agent to finish the update', () => since(node, mark, 'update_finalized').length === 1);
    const staged = since(node, mark, 'update_staged');
    expect(staged.map((s) => s.release)).toEqual(['20261115.0.0']);
    // Either the orphaned ostree command finished the stage (adopted) or the retry staged it anew.
    expect(since(node, mark, 'stage_started').length).toBe(staged[0]!.adopted === true ? 1 : 2);

    await node.powerCycleIfRebooted();
    const after = node.records.length;
    await waitFor('steady polling after the reboot', () => since(node, after, 'no_update').length >= 1);
    expect(await node.bootedVersion()).toBe('20261115.0.0');
    const set = await deployments(node);
    expect(set.deployments.map((d) => d.checksum)).toEqual([v2, v1]);
    expect(set.staged).toBeNull();
    expect(await node.reboots()).toBe(1);
  });
});
