// The etcd store against a real 3-member cluster: one member killed, several servers sharing the
// cluster (compare-and-swap conflicts between processes), and store health when etcd is gone.
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import { FleetLockError } from '../../../src/fleetlock/errors.js';
import { startEtcd, type EtcdCluster } from '../../helpers/etcd.js';
import { etcdHistory, freshPrefix, group, startInProcess } from './harness.js';

async function waitHealthy(url: string): Promise<number> {
  let status = 0;
  for (let i = 0; i < 100; i++) {
    status = (await request(new URL('healthz', url)).then(async (r) => (await r.body.text(), r.statusCode))) ?? 0;
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return status;
}

describe('alt-fleetlockd etcd store on a 3-member cluster', () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcd({ members: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('never exceeds the slots when two servers share the cluster and 500 clients compete', async () => {
    const prefix = freshPrefix();
    const spec = { engine: 'etcd' as const, endpoints: cluster.endpoints, prefix };
    const a = await startInProcess({ store: spec, groups: [group('default', 2)] });
    const b = await startInProcess({ store: { ...spec, endpoints: [...cluster.endpoints].reverse() }, groups: [group('default', 2)] });
    const dispatcher = new Agent({ connections: 500 });
    try {
      const clients = [a, b].map((s) => createFleetLockClient({ baseUrl: s.url, dispatcher }));
      const ids = Array.from({ length: 500 }, (_, i) => `n${i}`);
      const results = await Promise.allSettled(ids.map((id, i) => clients[i % 2]!.preReboot({ id, group: 'default' })));
      const won = ids.filter((_, i) => results[i]!.status === 'fulfilled');
      expect(won).toHaveLength(2);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as FleetLockError).kind).toBe('failed_lock_semaphore_full');
      const hist = await etcdHistory(cluster.endpoints, `${prefix}/groups/default`);
      expect(Math.max(...hist.map((h) => h.length))).toBeLessThanOrEqual(2);
      expect([...hist.at(-1)!].sort()).toEqual([...won].sort());
    } finally {
      await dispatcher.close();
      await a.close();
      await b.close();
    }
  });

  it('keeps locking and unlocking when the member it talks to is killed', async () => {
    // The first endpoint is the one the server prefers; kill exactly that member.
    const srv = await startInProcess({ store: { engine: 'etcd', endpoints: cluster.endpoints, prefix: freshPrefix() }, groups: [group('default', 1)] });
    try {
      const c = createFleetLockClient({ baseUrl: srv.url });
      await c.preReboot({ id: 'before', group: 'default' });
      await cluster.members[0]!.kill();
      expect(await waitHealthy(srv.url)).toBe(200);
      await c.steadyState({ id: 'before', group: 'default' });
      await c.preReboot({ id: 'after', group: 'default' });
      await expect(c.preReboot({ id: 'third', group: 'default' })).rejects.toMatchObject({ kind: 'failed_lock_semaphore_full' });
      await c.steadyState({ id: 'after', group: 'default' });
    } finally {
      await srv.close();
    }
  });
});

describe('alt-fleetlockd etcd store health', () => {
  it('reports 503 on /healthz and store_unavailable to clients when etcd is down', async () => {
    const single = await startEtcd();
    const srv = await startInProcess({ store: { engine: 'etcd', endpoints: single.endpoints, prefix: freshPrefix() }, groups: [group('default', 1)] });
    try {
      const c = createFleetLockClient({ baseUrl: srv.url });
      await c.preReboot({ id: 'a', group: 'default' });
      await single.members[0]!.kill();
      const h = await request(new URL('healthz', srv.url));
      expect(h.statusCode).toBe(503);
      expect(await h.body.text()).toContain('store unavailable');
      await expect(c.preReboot({ id: 'b', group: 'default' })).rejects.toMatchObject({ kind: 'store_unavailable', status: 503 });
      const metrics = await (await request(new URL('metrics', srv.url))).body.text();
      expect(metrics).toContain('alt_fleetlockd_store_up{engine="etcd"} 0');
    } finally {
      await srv.close();
      await single.stop();
    }
  });
});
