// The real agent over TLS: it trusts the CA in the host's store (ALT's bundle path under its root),
// keeps running and retrying while the graph server's certificate has expired, checks again once
// the server has a valid one, and refuses to start when a configured key does not match its
// certificate (a config error naming the key and the file).
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { createTestPki, type TestPki } from '../../helpers/tls.js';
import { REF, agentToml, debugRecords } from './support.js';

/** An https front for `upstream` (plain HTTP) on 127.0.0.1 whose certificate can be swapped. */
async function httpsFront(upstream: string, cert: { cert: string; key: string }): Promise<{ server: Server; url: string }> {
  const server = createServer(cert, (req, res) => {
    const up = httpRequest(new URL(req.url ?? '/', upstream), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe('alt-updated over TLS', () => {
  let pki: TestPki;
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let front: Awaited<ReturnType<typeof httpsFront>>;
  let node: TestbedNode;
  const after = (from: number, event: string): Record<string, unknown>[] => node.records.slice(from).filter((r) => r.event === event);

  beforeAll(async () => {
    pki = await createTestPki();
    repo = await createRepo();
    await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' });
    http = await serveDir(repo.path);
    graphd = await startTestGraphd({ repoPath: repo.path });
    front = await httpsFront(graphd.url, pki.expired);
    node = await createTestbedNode({ name: 'tls1', repoUrl: http.url, ref: REF, configToml: agentToml(front.url, 'immediate'), ...debugRecords });
    await mkdir(join(node.root, 'etc/pki/tls/certs'), { recursive: true });
    await writeFile(join(node.root, 'etc/pki/tls/certs/ca-bundle.crt'), pki.ca.cert);
  });
  afterAll(async () => {
    await node?.destroy();
    await new Promise<void>((resolve) => (front ? front.server.close(() => resolve()) : resolve()));
    await graphd?.close();
    await http?.close();
    await pki?.remove();
  });

  it('keeps running and retrying while the graph server certificate has expired, and checks once it is renewed', async () => {
    await node.start();
    await waitFor('failed update checks', () => after(0, 'update_check_failed').length >= 2);
    const failed = after(0, 'update_check_failed')[0]!;
    expect(failed['kind']).toBe('client_failed_request');
    expect(String(failed['err'])).toContain("TLS: the server's certificate (or one in its chain) has expired (CERT_HAS_EXPIRED)");
    expect(node.agent()?.exitCode ?? null).toBeNull();

    // The CA the agent trusts comes from the host store: the renewed certificate is accepted as is.
    front.server.setSecureContext({ cert: pki.server.cert, key: pki.server.key });
    const from = node.records.length;
    await waitFor('a successful check', () => after(from, 'no_update').length >= 1);
    expect(await node.reboots()).toBe(0);
  });

  it('does not start when the FleetLock client key does not belong to its certificate, naming the key and the file', async () => {
    await node.stopAgent();
    await writeFile(
      join(node.root, 'etc/alt-updated/config.d/60-tls.toml'),
      `[updates.fleet_lock]\nclient_cert_file = "${pki.client.certFile}"\nclient_key_file = "${pki.untrustedClient.keyFile}"\n`,
    );
    const from = node.records.length;
    await node.startAgent();
    const child = node.agent()!;
    await waitFor('the agent to exit', () => child.exitCode !== null);
    expect(child.exitCode).toBe(1);
    const invalid = after(from, 'config_invalid');
    expect(invalid).toHaveLength(1);
    expect(String(invalid[0]!['msg'])).toContain(
      `updates.fleet_lock.client_key_file: '${pki.untrustedClient.keyFile}': the private key does not belong to the certificate in '${pki.client.certFile}'`,
    );
  });
});
