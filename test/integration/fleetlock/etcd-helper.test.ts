import { describe, expect, it } from 'vitest';
import { createEtcdGateway } from '../../../src/fleetlock/server/etcd-gateway.js';
import { startEtcd } from '../../helpers/etcd.js';

describe('test/helpers/etcd', () => {
  it('starts a single member that serves the v3 JSON gateway and removes it on stop', async () => {
    const etcd = await startEtcd();
    try {
      const gw = createEtcdGateway({ endpoints: etcd.endpoints });
      const put = await gw.compareAndSwap('/t/a', null, Buffer.from('1'));
      expect(put.ok).toBe(true);
      const again = await gw.compareAndSwap('/t/a', null, Buffer.from('2'));
      expect(again.ok).toBe(false);
      expect(again.current?.value.toString()).toBe('1');
      const cas = await gw.compareAndSwap('/t/a', put.current!.modRevision, Buffer.from('3'));
      expect(cas.ok).toBe(true);
      const kvs = await gw.range('/t/', { prefix: true });
      expect(kvs.map((k) => [k.key, k.value.toString()])).toEqual([['/t/a', '3']]);
      await gw.close();
    } finally {
      await etcd.stop();
    }
  });
});
