import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createEtcdGateway } from '../../../src/fleetlock/server/etcd-gateway.js';

const ETCD = 'http://127.0.0.1:2379';
const INVALID = { error: 'etcdserver: invalid auth token', message: 'etcdserver: invalid auth token', code: 16 };

describe('src/fleetlock/server/etcd-gateway user authentication', () => {
  let mock: MockAgent;
  afterEach(async () => {
    mock.assertNoPendingInterceptors();
    await mock.close();
  });

  const setup = (): ReturnType<MockAgent['get']> => {
    mock = new MockAgent();
    mock.disableNetConnect();
    return mock.get(ETCD);
  };

  it('logs in once, sends the token, and logs in again once when etcd calls it invalid', async () => {
    const etcd = setup();
    // Each interceptor answers once: assertNoPendingInterceptors proves exactly two logins.
    etcd.intercept({ path: '/v3/auth/authenticate', method: 'POST', body: JSON.stringify({ name: 'fleetlock', password: 'pw' }) }).reply(200, { token: 't1' });
    etcd.intercept({ path: '/v3/kv/range', method: 'POST', headers: { authorization: 't1' } }).reply(200, { kvs: [] });
    etcd.intercept({ path: '/v3/kv/range', method: 'POST', headers: { authorization: 't1' } }).reply(401, INVALID);
    etcd.intercept({ path: '/v3/auth/authenticate', method: 'POST' }).reply(200, { token: 't2' });
    etcd.intercept({ path: '/v3/kv/range', method: 'POST', headers: { authorization: 't2' } }).reply(200, { kvs: [] });
    const gw = createEtcdGateway({ endpoints: [ETCD], dispatcher: mock, auth: { username: 'fleetlock', password: 'pw' } });
    expect(await gw.range('/a')).toEqual([]);
    expect(await gw.range('/a')).toEqual([]);
  });

  it('gives up with FLEETLOCKD_STORE_AUTH when a fresh token is invalid too', async () => {
    const etcd = setup();
    etcd.intercept({ path: '/v3/auth/authenticate', method: 'POST' }).reply(200, { token: 't1' }).times(2);
    etcd.intercept({ path: '/v3/kv/range', method: 'POST' }).reply(401, INVALID).times(2);
    const gw = createEtcdGateway({ endpoints: [ETCD], dispatcher: mock, auth: { username: 'fleetlock', password: 'pw' } });
    await expect(gw.range('/a')).rejects.toMatchObject({ code: 'FLEETLOCKD_STORE_AUTH', message: "etcd user 'fleetlock': etcdserver: invalid auth token" });
  });

  it('does not keep a failed login: the next request logs in again', async () => {
    const etcd = setup();
    const refused = { error: 'etcdserver: authentication failed, invalid user ID or password', message: 'etcdserver: authentication failed, invalid user ID or password', code: 3 };
    etcd.intercept({ path: '/v3/auth/authenticate', method: 'POST' }).reply(400, refused);
    etcd.intercept({ path: '/v3/auth/authenticate', method: 'POST' }).reply(200, { token: 't1' });
    etcd.intercept({ path: '/v3/kv/range', method: 'POST', headers: { authorization: 't1' } }).reply(200, { kvs: [] });
    const gw = createEtcdGateway({ endpoints: [ETCD], dispatcher: mock, auth: { username: 'fleetlock', password: 'pw' } });
    await expect(gw.range('/a')).rejects.toMatchObject({ code: 'FLEETLOCKD_STORE_AUTH' });
    expect(await gw.range('/a')).toEqual([]);
  });
});
