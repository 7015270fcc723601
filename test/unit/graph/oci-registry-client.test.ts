// The registry client's auth, caching and verification against a scripted registry (undici MockAgent).
import { createHash } from 'node:crypto';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../../../src/graph-server/oci/registry.js';

const R = 'http://registry.test';
const A = 'http://auth.test';
const sha = (b: string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const CHALLENGE = { 'www-authenticate': `Bearer realm="${A}/token",service="reg",scope="repository:alt/atomic:pull"` };
let agent: MockAgent;

function setup(): { reg: ReturnType<MockAgent['get']>; auth: ReturnType<MockAgent['get']> } {
  agent = new MockAgent();
  agent.disableNetConnect();
  return { reg: agent.get(R), auth: agent.get(A) };
}
afterEach(async () => {
  await agent.close();
});

describe('registry client', () => {
  it('answers a Bearer challenge with a token from the realm (credentials as Basic) and reuses it until it expires', async () => {
    const { reg, auth } = setup();
    let now = 0;
    const tokens: string[] = [];
    reg.intercept({ path: '/v2/alt/atomic/tags/list?n=1000', method: 'GET' }).reply(401, '', { headers: CHALLENGE });
    auth
      .intercept({ path: '/token?service=reg&scope=repository%3Aalt%2Fatomic%3Apull', method: 'GET', headers: { authorization: `Basic ${Buffer.from('bot:pw').toString('base64')}` } })
      .reply(200, () => (tokens.push('t1'), { token: 't1', expires_in: 120 }));
    reg.intercept({ path: '/v2/alt/atomic/tags/list?n=1000', method: 'GET', headers: { authorization: 'Bearer t1' } }).reply(200, { tags: ['1'] }).times(2);
    const c = createRegistryClient({ baseUrl: R, dispatcher: agent, credentials: { username: 'bot', password: 'pw' }, nowMs: () => now });
    expect(await c.listTags('alt/atomic')).toEqual(['1']);
    now = 100_000; // within 120 s minus the 10 s margin
    expect(await c.listTags('alt/atomic')).toEqual(['1']);
    expect(tokens).toEqual(['t1']);
    expect(c.requestCount()).toBe(4);
    // Past the lifetime: the client asks the realm again before sending the request.
    now = 200_000;
    const anonymous = (h: Record<string, string>): boolean => !Object.keys(h).some((k) => k.toLowerCase() === 'authorization');
    reg.intercept({ path: '/v2/alt/atomic/tags/list?n=1000', method: 'GET', headers: anonymous }).reply(401, '', { headers: CHALLENGE });
    auth.intercept({ path: /^\/token/, method: 'GET' }).reply(200, () => (tokens.push('t2'), { access_token: 't2' }));
    reg.intercept({ path: '/v2/alt/atomic/tags/list?n=1000', method: 'GET', headers: { authorization: 'Bearer t2' } }).reply(200, { tags: ['2'] });
    expect(await c.listTags('alt/atomic')).toEqual(['2']);
    expect(tokens).toEqual(['t1', 't2']);
  });

  it('fails as GRAPHD_REGISTRY when the realm refuses, naming it', async () => {
    const { reg, auth } = setup();
    reg.intercept({ path: /manifests/, method: 'GET' }).reply(401, '', { headers: CHALLENGE });
    auth.intercept({ path: /^\/token/, method: 'GET' }).reply(403, 'no');
    const c = createRegistryClient({ baseUrl: R, dispatcher: agent });
    await expect(c.getManifest('alt/atomic', '1')).rejects.toMatchObject({ code: 'GRAPHD_REGISTRY', message: expect.stringContaining('token realm http://auth.test/token answered 403') });
  });

  it('follows tags/list pagination', async () => {
    const { reg } = setup();
    reg.intercept({ path: '/v2/a/tags/list?n=1000', method: 'GET' }).reply(200, { tags: ['1', '2'] }, { headers: { link: '</v2/a/tags/list?n=1000&last=2>; rel="next"' } });
    reg.intercept({ path: '/v2/a/tags/list?n=1000&last=2', method: 'GET' }).reply(200, { tags: ['3'] });
    expect(await createRegistryClient({ baseUrl: R, dispatcher: agent }).listTags('a')).toEqual(['1', '2', '3']);
  });

  it('verifies digests: a manifest or blob whose body does not hash to the asked digest is refused', async () => {
    const { reg } = setup();
    const body = '{"schemaVersion":2}';
    const other = sha('x');
    reg.intercept({ path: `/v2/a/manifests/${encodeURIComponent(other)}`, method: 'GET' }).reply(200, body);
    reg.intercept({ path: `/v2/a/blobs/${other}`, method: 'GET' }).reply(200, body);
    reg.intercept({ path: '/v2/a/manifests/1', method: 'GET' }).reply(200, body, { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    const c = createRegistryClient({ baseUrl: R, dispatcher: agent });
    await expect(c.getManifest('a', other)).rejects.toThrow(/body has digest/);
    await expect(c.getBlob('a', other)).rejects.toThrow(/body has digest/);
    // By tag, the digest is the body's own hash (not a header the registry could get wrong).
    expect(await c.getManifest('a', '1')).toMatchObject({ digest: sha(body), mediaType: 'application/vnd.oci.image.manifest.v1+json' });
  });

  it('reads a moved tag by a bodyless HEAD', async () => {
    const { reg } = setup();
    reg.intercept({ path: '/v2/a/manifests/1', method: 'HEAD' }).reply(200, '', { headers: { 'docker-content-digest': sha('new') } });
    expect(await createRegistryClient({ baseUrl: R, dispatcher: agent }).headManifest('a', '1')).toBe(sha('new'));
  });
});
