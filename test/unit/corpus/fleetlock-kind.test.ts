// Regression found by the corpus: FleetLockError.kind took any server-sent `kind` string, but `kind`
// is a metric label (the agent counts strategy errors by it), so a hostile or broken server could
// inject spaces, newlines or unbounded distinct values. Unsafe kinds now fall back to the generic one.
import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';

describe('src/fleetlock/client kind from the server (corpus regression)', () => {
  it.each([
    ['failed_lock_semaphore_full', 'failed_lock_semaphore_full'],
    ['a b', 'generic_http_423'],
    ['x\ny', 'generic_http_423'],
    ['замок', 'generic_http_423'],
    ['UPPER', 'generic_http_423'],
    ['k'.repeat(65), 'generic_http_423'],
  ])('server kind %j becomes FleetLockError kind %s', async (serverKind, kind) => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get('http://lock.example').intercept({ path: '/v1/pre-reboot', method: 'POST' }).reply(423, JSON.stringify({ kind: serverKind, value: 'held' }));
    const err = await createFleetLockClient({ baseUrl: 'http://lock.example/', dispatcher: agent })
      .preReboot({ id: 'n1', group: 'default' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FLEETLOCK_REQUEST_FAILED', kind, status: 423 });
    expect((err as Error).message).toContain('held');
    await agent.close();
  });
});
