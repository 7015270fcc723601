// alt-fleetlockd's etcd store against a real etcd 3.4 started with TLS, --client-cert-auth and user
// authentication, with certificates made by openssl in the test: the trusted, authenticated store
// serves locks (through the real server process and its config file); an untrusted etcd
// certificate, a missing client certificate, a wrong password, no user at all, and a client
// certificate with a CommonName each fail with an error that says which.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import type { StoreConfig } from '../../../src/fleetlock/server/config.js';
import { openEtcdStore } from '../../../src/fleetlock/server/etcd-store.js';
import { loadEtcdClientMaterial } from '../../../src/fleetlock/server/tls.js';
import { enableAuth, startEtcd, type EtcdCluster, type EtcdTlsOptions } from '../../helpers/etcd.js';
import { createTestPki, type TestPki } from '../../helpers/tls.js';
import { spawnServer } from './spawn.js';

const PREFIX = '/alt-fleetlockd';

describe('etcd store with TLS, client certificates and user authentication', () => {
  let pki: TestPki;
  let etcd: EtcdCluster;
  let passwordFile: string;
  let wrongPasswordFile: string;

  type EtcdCfg = Extract<StoreConfig, { kind: 'etcd' }>;
  const cfg = (over: Partial<EtcdCfg> = {}): EtcdCfg => ({
    kind: 'etcd',
    endpoints: etcd.endpoints,
    prefix: PREFIX,
    timeoutMs: 3000,
    tls: { caFile: pki.ca.certFile, certFile: pki.noCnClient.certFile, keyFile: pki.noCnClient.keyFile },
    auth: { username: 'fleetlock', passwordFile },
    ...over,
  });
  const open = async (c: EtcdCfg): Promise<Awaited<ReturnType<typeof openEtcdStore>>> =>
    openEtcdStore({ endpoints: c.endpoints, prefix: c.prefix, timeoutMs: c.timeoutMs, ...(await loadEtcdClientMaterial(c)) });
  const failure = async (c: EtcdCfg): Promise<Error & { code: string }> => {
    const err = await open(c).then(async (s) => {
      await s.close();
      return null;
    }, (e: unknown) => e);
    if (err === null) throw new Error('expected the store not to open');
    return err as Error & { code: string };
  };

  beforeAll(async () => {
    pki = await createTestPki();
    const tls: EtcdTlsOptions = {
      certFile: pki.server.certFile,
      keyFile: pki.server.keyFile,
      caFile: pki.ca.certFile,
      clientCertAuth: true,
      client: { ca: pki.ca.cert, cert: pki.noCnClient.cert, key: pki.noCnClient.key },
    };
    etcd = await startEtcd({ tls });
    await enableAuth(etcd.endpoints[0]!, { rootPassword: 'root-secret', user: 'fleetlock', password: 'lock-secret', prefix: PREFIX, tls });
    passwordFile = join(pki.dir, 'etcd-password');
    wrongPasswordFile = join(pki.dir, 'etcd-wrong-password');
    await writeFile(passwordFile, 'lock-secret\n');
    await writeFile(wrongPasswordFile, 'nope\n');
  });
  afterAll(async () => {
    await etcd?.stop();
    await pki?.remove();
  });

  it('serves locks through alt-fleetlockd configured with the CA, client certificate and user', async () => {
    const configFile = join(pki.dir, 'fleetlockd.toml');
    await writeFile(
      configFile,
      [
        'listen = "127.0.0.1:0"',
        '[store]',
        'type = "etcd"',
        '[store.etcd]',
        `endpoints = ["${etcd.endpoints[0]!}"]`,
        `ca_file = "${pki.ca.certFile}"`,
        `cert_file = "${pki.noCnClient.certFile}"`,
        `key_file = "${pki.noCnClient.keyFile}"`,
        'username = "fleetlock"',
        `password_file = "${passwordFile}"`,
        '[groups.default]',
        'slots = 1',
        '',
      ].join('\n'),
    );
    const server = await spawnServer(['--config', configFile]);
    try {
      const client = createFleetLockClient({ baseUrl: server.url });
      await client.preReboot({ id: 'a'.repeat(32), group: 'default' });
      const store = await open(cfg());
      expect((await store.loadAll()).get('default')?.holders.map((h) => h.id)).toEqual(['a'.repeat(32)]);
      await store.close();
    } finally {
      await server.stop();
    }
  });

  it('fails with TLS_SERVER_UNTRUSTED when etcd has a certificate of a CA it does not trust', async () => {
    const err = await failure(cfg({ tls: { caFile: null, certFile: pki.noCnClient.certFile, keyFile: pki.noCnClient.keyFile } }));
    expect(err.code).toBe('FLEETLOCKD_STORE_UNAVAILABLE');
    expect(err.cause).toMatchObject({ code: 'TLS_SERVER_UNTRUSTED' });
    expect(err.message).toContain("the server's certificate is not signed by a trusted CA (trusted: the host's CA store and store.etcd.ca_file)");
  });

  it('fails saying a client certificate is required when none is configured', async () => {
    const err = await failure(cfg({ tls: { caFile: pki.ca.certFile, certFile: null, keyFile: null } }));
    expect(err.code).toBe('FLEETLOCKD_STORE_UNAVAILABLE');
    expect(err.cause).toMatchObject({ code: 'TLS_CLIENT_CERT_REQUIRED' });
    expect(err.message).toContain('the server requires a client certificate and none was sent (set store.etcd.cert_file)');
  });

  it('fails with FLEETLOCKD_STORE_AUTH for a wrong password', async () => {
    const err = await failure(cfg({ auth: { username: 'fleetlock', passwordFile: wrongPasswordFile } }));
    expect(err.code).toBe('FLEETLOCKD_STORE_AUTH');
    expect(err.message).toContain("etcd user 'fleetlock' was refused (store.etcd.username and store.etcd.password_file)");
  });

  it('fails with FLEETLOCKD_STORE_AUTH when etcd has auth on and no user is configured', async () => {
    const err = await failure(cfg({ auth: null }));
    expect(err.code).toBe('FLEETLOCKD_STORE_AUTH');
    expect(err.message).toContain('if etcd has authentication enabled, set store.etcd.username and store.etcd.password_file');
  });

  it('fails with FLEETLOCKD_STORE_AUTH, saying why, for a client certificate with a CommonName', async () => {
    const err = await failure(cfg({ tls: { caFile: pki.ca.certFile, certFile: pki.client.certFile, keyFile: pki.client.keyFile } }));
    expect(err.code).toBe('FLEETLOCKD_STORE_AUTH');
    expect(err.message).toContain('issue store.etcd.cert_file without a CN');
  });

  it('names the key and the file of a password file that does not exist', async () => {
    await expect(loadEtcdClientMaterial(cfg({ auth: { username: 'fleetlock', passwordFile: '/nonexistent/pw' } }))).rejects.toThrow(
      "store.etcd.password_file: '/nonexistent/pw': cannot read",
    );
  });
});
