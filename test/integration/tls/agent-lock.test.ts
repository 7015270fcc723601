// The agent core with the real fleet_lock strategy and the real FleetLock client against an
// alt-fleetlockd that requires client certificates (openssl-made, on 127.0.0.1): a node without its
// certificate gets a steady_report_failed event saying why, keeps its state and retries, and the
// same node with its certificate reports steady.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockPort } from '../../../src/agent/adapters/lock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import type { Settings } from '../../../src/config/types.js';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import { createStrategy } from '../../../src/strategies/registry.js';
import { loadClientTls, loadHostTrust, type ClientTls } from '../../../src/tls/trust.js';
import { createTestPki, type TestPki } from '../../helpers/tls.js';
import { countingMetricsForTest, testSettings } from '../../unit/agent/fixtures.js';
import { makeAgent } from '../../unit/agent/harness.js';
import { group, startInProcess, type InProcess } from '../fleetlock/harness.js';

describe('agent fleet_lock strategy over TLS with client certificates', () => {
  let pki: TestPki;
  let root: string;
  let server: InProcess;
  let host: Awaited<ReturnType<typeof loadHostTrust>>;

  beforeAll(async () => {
    pki = await createTestPki();
    root = await mkdtemp(join(tmpdir(), 'alt-tls-agent-'));
    await mkdir(join(root, 'etc/pki/tls/certs'), { recursive: true });
    await writeFile(join(root, 'etc/pki/tls/certs/ca-bundle.crt'), pki.ca.cert);
    host = await loadHostTrust({ root });
    server = await startInProcess({
      store: { engine: 'embedded' },
      groups: [group('default', 1)],
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, clientCaFile: pki.ca.certFile },
    });
  });
  afterAll(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
    await pki?.remove();
  });

  const agentWith = (tls: ClientTls) => {
    const base = testSettings({ strategy: 'fleet_lock' });
    const settings: Settings = { ...base, updates: { ...base.updates, fleetLock: { ...base.updates.fleetLock, baseUrl: server.url } } };
    const client = createFleetLockClient({ baseUrl: server.url, tls });
    const strategy = createStrategy({
      settings,
      logger: memoryLogger(),
      lock: lockPort(client, countingMetricsForTest()),
      lockParams: { id: 'd'.repeat(32), group: 'default' },
    });
    return { t: makeAgent({ settings, strategy }), client };
  };

  it('keeps retrying the steady-state report, saying the certificate is missing, and does not crash', async () => {
    const { t, client } = agentWith(await loadClientTls(host, {}));
    await t.agent.step(); // start -> initialized
    for (let i = 0; i < 3; i++) await t.agent.step();
    expect(t.agent.state.kind).toBe('initialized');
    const failed = t.logger.records.filter((r) => r.fields['event'] === 'steady_report_failed');
    expect(failed).toHaveLength(3);
    expect(failed[0]!.fields['kind']).toBe('client_cert_required');
    expect(String(failed[0]!.fields['err'])).toContain('this server requires a client certificate');
    await client.close();
  });

  it('reports steady once the node presents its certificate', async () => {
    const tls = await loadClientTls(host, {
      cert: { key: 'updates.fleet_lock.client_cert_file', file: pki.client.certFile },
      key: { key: 'updates.fleet_lock.client_key_file', file: pki.client.keyFile },
    });
    const { t, client } = agentWith(tls);
    await t.stepUntil('reported_steady');
    expect(t.events()).toContain('steady_reported');
    await client.close();
  });
});
