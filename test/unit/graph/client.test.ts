import { afterEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { createGraphClient } from '../../../src/graph/client.js';

const GRAPH = { nodes: [{ version: 'a', payload: 'pa', metadata: {} }], edges: [] };
let mock: MockAgent;
afterEach(async () => {
  mock.assertNoPendingInterceptors();
  await mock.close();
});

describe('graph/client (MockAgent)', () => {
  it('requests GET /v1/graph with the accept header and only the configured optional parameters', async () => {
    mock = new MockAgent();
    mock.disableNetConnect();
    mock
      .get('https://updates.example')
      .intercept({
        method: 'GET',
        path: '/v1/graph?basearch=aarch64&stream=p11&os_version=p11.1&os_checksum=c&group=workers&node_uuid=u',
        headers: { accept: 'application/json' },
      })
      .reply(200, GRAPH);
    const g = await createGraphClient({ baseUrl: 'https://updates.example', dispatcher: mock }).fetchGraph({
      basearch: 'aarch64', stream: 'p11', osVersion: 'p11.1', osChecksum: 'c', group: 'workers', nodeUuid: 'u', platform: null,
    });
    expect(g.nodes.map((n) => n.payload)).toEqual(['pa']);
  });

  it('rejects with a typed error carrying the server kind', async () => {
    mock = new MockAgent();
    mock.disableNetConnect();
    mock.get('https://updates.example').intercept({ path: /^\/v1\/graph/ }).reply(404, { kind: 'unknown_stream', value: 'no graph' });
    const p = createGraphClient({ baseUrl: 'https://updates.example/', dispatcher: mock }).fetchGraph({
      basearch: 'x86_64', stream: 'nope', osVersion: 'v', osChecksum: 'c', group: 'default', nodeUuid: 'u',
    });
    await expect(p).rejects.toMatchObject({ code: 'GRAPH_SERVER', kind: 'unknown_stream', status: 404, message: 'server-side error, code 404: no graph' });
  });
});
