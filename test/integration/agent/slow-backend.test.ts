// The real agent process under a notify socket, started while alt-ostreed does not answer yet (as at
// boot, or with a backend that is slow to come up): the agent must tell systemd READY=1 at once, with
// a STATUS= that says what it waits for, instead of leaving a Type=notify unit to hit its start
// timeout (and be killed and restarted in a loop). Once the backend answers it carries on, and every
// deployments query on the way, failed or not, is counted in the rpm_ostree_status metrics.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/graphd.js';
import { assignments, startNotifyListener, type NotifyListener } from '../../helpers/notify-listener.js';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { agentMetric, agentToml, debugRecords, REF } from './support.js';

describe('alt-updated started before its backend answers', () => {
  let repo: FixtureRepo;
  let http: StaticServer;
  let node: TestbedNode;
  let dir: string;
  let notify: NotifyListener;
  const sent = (): string[][] => notify.messages.map(assignments);

  beforeAll(async () => {
    repo = await createRepo();
    await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' });
    http = await serveDir(repo.path);
    dir = await mkdtemp(join(tmpdir(), 'agent-notify-'));
    notify = await startNotifyListener(join(dir, 'notify.sock'));
    // No graph server: update checks fail, which this test does not look at.
    node = await createTestbedNode({
      name: 'slow-backend',
      repoUrl: http.url,
      ref: REF,
      configToml: agentToml('http://127.0.0.1:9/', 'immediate'),
      agentEnv: { NOTIFY_SOCKET: join(dir, 'notify.sock') },
      ...debugRecords,
    });
  });
  afterAll(async () => {
    await node?.destroy();
    notify?.proc.kill();
    await http?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends READY=1 with a STATUS= naming the backend it waits for, and carries on once the backend answers', async () => {
    await node.startAgent(); // the agent alone: alt-ostreed is not running
    await waitFor('READY=1 while the backend is down', () => sent().some((m) => m.includes('READY=1')), 60_000);
    const ready = sent().find((m) => m.includes('READY=1'))!;
    expect(ready.find((a) => a.startsWith('STATUS='))).toMatch(/^STATUS=waiting for the ostree backend/);
    await waitFor('a failed deployments query', () => node.records.filter((r) => r.event === 'deployments_query_failed').length >= 2);
    expect(sent().at(-1)!.join('\n')).toMatch(/^STATUS=waiting for the ostree backend .*failed attempts: \d+/);
    expect(node.agent()?.exitCode).toBeNull();

    await node.restartBackend(); // now it answers
    await waitFor('the agent to initialize', () => node.records.some((r) => r.event === 'agent_initialized'));
    await waitFor('the polling status', () => sent().some((m) => m.includes('STATUS=periodically polling for updates')));
    expect(sent().filter((m) => m.includes('READY=1'))).toHaveLength(1);
  });

  it('counts every deployments query of the real client, the failed ones too', async () => {
    const failedWaits = node.records.filter((r) => r.event === 'deployments_query_failed').length;
    const failures = await agentMetric(node, 'alt_updated_rpm_ostree_status_failures_total');
    const attempts = await agentMetric(node, 'alt_updated_rpm_ostree_status_attempts_total');
    expect(failures).toBe(failedWaits);
    // The successful start-up query, and the start tick's own one, on top of the failed ones.
    expect(attempts).toBeGreaterThanOrEqual(failures + 2);
  });
});
