// The agent's graph and FleetLock clients over TLS against servers on 127.0.0.1 with certificates
// made by openssl in the test: trusted connections work (through the host store, or the configured
// CA file added to it); an untrusted, wrong-host or expired server certificate and a missing or
// foreign client certificate each fail with an error that says which.
import { createServer, type Server } from 'node:https';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import { createGraphClient, type GraphQuery } from '../../../src/graph/client.js';
import { loadClientTls, loadHostTrust, type ClientTls } from '../../../src/tls/trust.js';
import { createTestPki, type CertFiles, type TestPki } from '../../helpers/tls.js';
import { group, startInProcess, type InProcess } from '../fleetlock/harness.js';

const query: GraphQuery = { basearch: 'x86_64', stream: 'sisyphus', osVersion: '1', osChecksum: 'a'.repeat(64), group: 'default', nodeUuid: 'b'.repeat(32) };

let pki: TestPki;
let root: string;
const servers: Server[] = [];

/** An https server on 127.0.0.1 answering every request with an empty graph. */
async function serve(cert: CertFiles): Promise<string> {
  const server = createServer({ cert: cert.cert, key: cert.key }, (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"nodes":[],"edges":[]}');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** A host root whose Debian bundle holds `ca` only. */
async function hostWith(ca: CertFiles): Promise<string> {
  const dir = join(root, `host-${servers.length}-${Math.random().toString(16).slice(2)}`);
  await mkdir(join(dir, 'etc/ssl/certs'), { recursive: true });
  await writeFile(join(dir, 'etc/ssl/certs/ca-certificates.crt'), ca.cert);
  return dir;
}

async function failure(p: Promise<unknown>): Promise<Error & { code: string; kind: string; cause: { code?: string } }> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (err === null) throw new Error('expected a failure');
  return err as Error & { code: string; kind: string; cause: { code?: string } };
}

beforeAll(async () => {
  pki = await createTestPki();
  root = await mkdtemp(join(tmpdir(), 'alt-tls-host-'));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  await rm(root, { recursive: true, force: true });
  await pki.remove();
});

describe('graph client over TLS', () => {
  let trusted: ClientTls;
  beforeAll(async () => {
    trusted = await loadClientTls(await loadHostTrust({ root: await hostWith(pki.ca) }), {});
  });

  it("trusts a server whose CA is in the host's store", async () => {
    const url = await serve(pki.server);
    const graph = await createGraphClient({ baseUrl: url, tls: trusted }).fetchGraph(query);
    expect(graph.nodes).toEqual([]);
  });

  it("trusts a server whose CA is in the configured CA file, and still the host's store", async () => {
    const host = await loadHostTrust({ root: await hostWith(pki.otherCa) });
    const tls = await loadClientTls(host, { ca: { key: 'cincinnati.ca_file', file: pki.ca.certFile } });
    expect((await createGraphClient({ baseUrl: await serve(pki.server), tls }).fetchGraph(query)).edges).toEqual([]);
    expect((await createGraphClient({ baseUrl: await serve(pki.untrusted), tls }).fetchGraph(query)).edges).toEqual([]);
  });

  it('fails with TLS_SERVER_UNTRUSTED for a certificate from an unknown CA', async () => {
    const err = await failure(createGraphClient({ baseUrl: await serve(pki.untrusted), tls: trusted }).fetchGraph(query));
    expect(err).toMatchObject({ code: 'GRAPH_REQUEST', kind: 'client_failed_request' });
    expect(err.cause).toMatchObject({ code: 'TLS_SERVER_UNTRUSTED', nodeCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(err.message).toContain("the server's certificate is not signed by a trusted CA (trusted: the host's CA store and cincinnati.ca_file)");
  });

  it('fails with TLS_HOSTNAME_MISMATCH for a certificate of another host', async () => {
    const err = await failure(createGraphClient({ baseUrl: await serve(pki.wrongHost), tls: trusted }).fetchGraph(query));
    expect(err.cause).toMatchObject({ code: 'TLS_HOSTNAME_MISMATCH', nodeCode: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(err.message).toContain('not valid for the host name in the URL');
  });

  it('fails with TLS_CERT_EXPIRED for an expired certificate', async () => {
    const err = await failure(createGraphClient({ baseUrl: await serve(pki.expired), tls: trusted }).fetchGraph(query));
    expect(err.cause).toMatchObject({ code: 'TLS_CERT_EXPIRED', nodeCode: 'CERT_HAS_EXPIRED' });
    expect(err.message).toContain('has expired');
  });
});

describe('FleetLock client over TLS against alt-fleetlockd requiring client certificates', () => {
  let server: InProcess;
  let host: Awaited<ReturnType<typeof loadHostTrust>>;
  const params = { id: 'c'.repeat(32), group: 'default' };

  beforeAll(async () => {
    server = await startInProcess({
      store: { engine: 'embedded' },
      groups: [group('default', 1)],
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, clientCaFile: pki.ca.certFile },
    });
    host = await loadHostTrust({ root: await hostWith(pki.ca) });
  });
  afterAll(async () => {
    await server.close();
  });

  it('takes and releases a slot when the node presents its certificate', async () => {
    const tls = await loadClientTls(host, {
      cert: { key: 'updates.fleet_lock.client_cert_file', file: pki.client.certFile },
      key: { key: 'updates.fleet_lock.client_key_file', file: pki.client.keyFile },
    });
    const client = createFleetLockClient({ baseUrl: server.url, tls });
    await client.preReboot(params);
    expect((await server.store.readAll()).get('default')?.holders.map((h) => h.id)).toEqual([params.id]);
    await client.steadyState(params);
    await client.close();
  });

  it('refuses a node without a client certificate, saying so', async () => {
    const client = createFleetLockClient({ baseUrl: server.url, tls: await loadClientTls(host, {}) });
    const err = await failure(client.preReboot(params));
    expect(err).toMatchObject({ code: 'FLEETLOCK_REQUEST_FAILED', kind: 'client_cert_required', status: 403 });
    expect(err.message).toContain('this server requires a client certificate');
    // Again, on a new connection that could resume the first TLS session: a resumed session says
    // "authorized" without any certificate, so the server must not offer resumption.
    for (let i = 0; i < 3; i++) expect(await failure(client.preReboot(params))).toMatchObject({ kind: 'client_cert_required' });
    await client.close();
  });

  it('refuses a certificate its client CA did not sign, saying why', async () => {
    const tls = await loadClientTls(host, {
      cert: { key: 'updates.fleet_lock.client_cert_file', file: pki.untrustedClient.certFile },
      key: { key: 'updates.fleet_lock.client_key_file', file: pki.untrustedClient.keyFile },
    });
    const client = createFleetLockClient({ baseUrl: server.url, tls });
    const err = await failure(client.preReboot(params));
    expect(err).toMatchObject({ kind: 'client_cert_rejected', status: 403 });
    expect(err.message).toContain("the client certificate was not accepted: it is not signed by this server's client CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)");
    await client.close();
  });

  it('fails with TLS_SERVER_UNTRUSTED when the node does not trust the server', async () => {
    const client = createFleetLockClient({ baseUrl: server.url, tls: await loadClientTls(await loadHostTrust({ root: await hostWith(pki.otherCa) }), {}) });
    const err = await failure(client.preReboot(params));
    expect(err).toMatchObject({ code: 'FLEETLOCK_REQUEST_FAILED', kind: 'client_failed_request' });
    expect(err.cause).toMatchObject({ code: 'TLS_SERVER_UNTRUSTED' });
    expect(err.message).toContain('updates.fleet_lock.ca_file');
    await client.close();
  });
});
