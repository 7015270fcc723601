import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFleetLockAdminClient } from '../../../src/fleetlock/admin-client.js';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import type { FleetLockError } from '../../../src/fleetlock/errors.js';

const params = { id: '074c268827d74fb59ed758e8940cd667', group: 'workers' };

describe('src/fleetlock/client', () => {
  let agent: MockAgent;
  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
  });
  afterEach(async () => {
    agent.assertNoPendingInterceptors();
    await agent.close();
  });

  it('POSTs v1/pre-reboot relative to a base URL with a path, with the protocol header and body', async () => {
    agent
      .get('https://fl.example')
      .intercept({
        path: '/fleet_lock/v1/pre-reboot',
        method: 'POST',
        headers: { 'fleet-lock-protocol': 'true' },
        body: (b) => JSON.stringify(JSON.parse(b)) === JSON.stringify({ client_params: params }),
      })
      .reply(200, '');
    await createFleetLockClient({ baseUrl: 'https://fl.example/fleet_lock/', dispatcher: agent }).preReboot(params);
  });

  it('POSTs v1/steady-state and sends the bearer token only when one is set', async () => {
    const pool = agent.get('http://fl.example');
    pool.intercept({ path: '/v1/steady-state', method: 'POST', headers: (h) => h['authorization'] === 'Bearer t0k' }).reply(204, '');
    pool.intercept({ path: '/v1/steady-state', method: 'POST', headers: (h) => !('authorization' in h) }).reply(200, '');
    await createFleetLockClient({ baseUrl: 'http://fl.example', dispatcher: agent, token: 't0k' }).steadyState(params);
    await createFleetLockClient({ baseUrl: 'http://fl.example', dispatcher: agent, token: null }).steadyState(params);
  });

  it.each([
    [423, JSON.stringify({ kind: 'failed_lock_semaphore_full', value: 'all slots held' }), 'failed_lock_semaphore_full', /code 423: all slots held/],
    [500, JSON.stringify({ kind: 'failed_lock', value: 'x' }), 'failed_lock', /code 500/],
    [503, 'Service Unavailable', 'generic_http_503', /Service Unavailable/],
    [404, '', 'generic_http_404', /code 404/],
    [302, '', 'generic_http_302', /code 302/],
  ])('maps HTTP %i with body %j to kind %s', async (status, body, kind, message) => {
    agent.get('http://fl.example').intercept({ path: '/v1/pre-reboot', method: 'POST' }).reply(status, body);
    const err = (await createFleetLockClient({ baseUrl: 'http://fl.example/', dispatcher: agent }).preReboot(params).catch((e: unknown) => e)) as FleetLockError;
    expect(err).toMatchObject({ code: 'FLEETLOCK_REQUEST_FAILED', kind, status, api: 'pre-reboot' });
    expect(err.message).toMatch(message);
  });

  it('POSTs v1/verdict with client_params, the verdict and the token, and reads whether the group is halted', async () => {
    const verdict = { result: 'rolled_back' as const, release: '2026.12.1', reason: 'check sshd failed' };
    const pool = agent.get('http://fl.example');
    pool
      .intercept({
        path: '/fleet_lock/v1/verdict',
        method: 'POST',
        headers: (h) => h['fleet-lock-protocol'] === 'true' && h['authorization'] === 'Bearer t0k',
        body: (b) => JSON.stringify(JSON.parse(b)) === JSON.stringify({ client_params: params, verdict }),
      })
      .reply(200, { result: 'recorded', group_halted: true });
    pool.intercept({ path: '/fleet_lock/v1/verdict', method: 'POST' }).reply(200, { result: 'recorded', group_halted: false });
    const client = createFleetLockClient({ baseUrl: 'http://fl.example/fleet_lock/', dispatcher: agent, token: 't0k' });
    await expect(client.reportVerdict(params, verdict)).resolves.toEqual({ groupHalted: true });
    await expect(client.reportVerdict(params, { ...verdict, result: 'healthy', reason: null })).resolves.toEqual({ groupHalted: false });
  });

  it('rejects a verdict to a server without the endpoint with its 404 kind, api verdict', async () => {
    agent.get('http://fl.example').intercept({ path: '/v1/verdict', method: 'POST' }).reply(404, 'page not found');
    const err = (await createFleetLockClient({ baseUrl: 'http://fl.example/', dispatcher: agent })
      .reportVerdict(params, { result: 'failed', release: '1', reason: null })
      .catch((e: unknown) => e)) as FleetLockError;
    expect(err).toMatchObject({ code: 'FLEETLOCK_REQUEST_FAILED', kind: 'generic_http_404', status: 404, api: 'verdict' });
  });

  it('reports client_failed_request when no response arrives', async () => {
    agent.get('http://fl.example').intercept({ path: '/v1/pre-reboot', method: 'POST' }).replyWithError(new Error('connection refused'));
    const err = (await createFleetLockClient({ baseUrl: 'http://fl.example/', dispatcher: agent }).preReboot(params).catch((e: unknown) => e)) as FleetLockError;
    expect(err).toMatchObject({ kind: 'client_failed_request', status: null });
  });

  it('aborts with the caller signal', async () => {
    agent.get('http://fl.example').intercept({ path: '/v1/pre-reboot', method: 'POST' }).reply(200, '').delay(5000);
    const ac = new AbortController();
    const p = createFleetLockClient({ baseUrl: 'http://fl.example/', dispatcher: agent }).preReboot(params, ac.signal);
    ac.abort();
    await expect(p).rejects.toMatchObject({ kind: 'client_failed_request' });
  });
});

describe('src/fleetlock/admin-client', () => {
  it('lists groups with holders and sends the admin token', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('http://fl.example')
      .intercept({ path: '/admin/v1/groups', method: 'GET', headers: { authorization: 'Bearer adm' } })
      .reply(200, {
        groups: [{ name: 'default', configured: true, slots: 2, stale_after_secs: null, holders: [{ id: 'a', locked_at: '2026-11-28T01:30:00.000Z', renewed_at: '2026-11-28T01:31:00.000Z', stale: false }] }],
      });
    const groups = await createFleetLockAdminClient({ baseUrl: 'http://fl.example/', token: 'adm', dispatcher: agent }).listGroups();
    expect(groups).toEqual([
      {
        name: 'default',
        configured: true,
        slots: 2,
        staleAfterSecs: null,
        holders: [{ id: 'a', lockedAt: '2026-11-28T01:30:00.000Z', renewedAt: '2026-11-28T01:31:00.000Z', stale: false }],
        haltAfterFailures: null,
        haltWindowSecs: null,
        halted: null,
        failures: [],
      },
    ]);
    agent.assertNoPendingInterceptors();
    await agent.close();
  });
});
