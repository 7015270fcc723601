import { describe, expect, it } from 'vitest';
import { rootCertificates } from 'node:tls';
import { tlsFailure } from '../../../src/tls/classify.js';
import { TlsError } from '../../../src/tls/errors.js';
import { HOST_CA_BUNDLES, loadClientTls, loadHostTrust, type ReadFile } from '../../../src/tls/trust.js';

const fakePem = (name: string): string => `# ${name}\n-----BEGIN CERTIFICATE-----\nMIIB${name}\n-----END CERTIFICATE-----\n`;

/** A reader over an in-memory tree; a missing path rejects like fs (ENOENT). */
function tree(files: Record<string, string>): ReadFile {
  return (path) => {
    const text = files[path];
    if (text === undefined) return Promise.reject(Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' }));
    return Promise.resolve(Buffer.from(text));
  };
}

describe('src/tls/trust loadHostTrust', () => {
  it("finds ALT's bundle", async () => {
    const host = await loadHostTrust({ root: '/r', readFile: tree({ '/r/etc/pki/tls/certs/ca-bundle.crt': fakePem('alt') }) });
    expect(host.path).toBe('/r/etc/pki/tls/certs/ca-bundle.crt');
    expect(host.pem).toEqual([fakePem('alt')]);
  });

  it("finds Debian's bundle when ALT's path does not exist", async () => {
    const host = await loadHostTrust({ readFile: tree({ '/etc/ssl/certs/ca-certificates.crt': fakePem('debian') }) });
    expect(host.path).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it('probes every known distribution path, ALT and Debian first', async () => {
    expect(HOST_CA_BUNDLES.slice(0, 2)).toEqual(['/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/certs/ca-certificates.crt']);
    for (const path of HOST_CA_BUNDLES) {
      expect((await loadHostTrust({ readFile: tree({ [path]: fakePem('x') }) })).path).toBe(path);
    }
  });

  it('skips an empty bundle and takes the next one', async () => {
    const host = await loadHostTrust({ readFile: tree({ '/etc/pki/tls/certs/ca-bundle.crt': '', '/etc/ssl/certs/ca-certificates.crt': fakePem('d') }) });
    expect(host.path).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it("falls back to Node's bundled list when the host has no bundle", async () => {
    const host = await loadHostTrust({ readFile: tree({}) });
    expect(host.path).toBeNull();
    expect(host.pem).toEqual(rootCertificates);
  });
});

describe('src/tls/trust loadClientTls', () => {
  it('adds the configured CA file to the host store instead of replacing it', async () => {
    const read = tree({ '/etc/ssl/certs/ca-certificates.crt': fakePem('host') });
    const host = await loadHostTrust({ readFile: read });
    // A fake block is not a certificate: the CA file is parsed, so a real one is needed here.
    await expect(loadClientTls(host, { ca: { key: 'cincinnati.ca_file', file: '/etc/ssl/certs/ca-certificates.crt' } }, read)).rejects.toThrow(
      /^cincinnati\.ca_file: '\/etc\/ssl\/certs\/ca-certificates\.crt': certificate 1 is corrupt/,
    );
    expect(await loadClientTls(host, {}, read)).toEqual({ ca: [fakePem('host')], cert: null, key: null });
  });

  it('names the key and the file of a missing CA file', async () => {
    const err = await loadClientTls({ path: null, pem: [] }, { ca: { key: 'updates.fleet_lock.ca_file', file: '/etc/x/ca.crt' } }, tree({})).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TLS_FILE_INVALID', key: 'updates.fleet_lock.ca_file', file: '/etc/x/ca.crt' });
    expect((err as Error).message).toBe("updates.fleet_lock.ca_file: '/etc/x/ca.crt': cannot read: no such file");
  });

  it('says a DER or key file is not a PEM certificate', async () => {
    const read = tree({ '/der': '\u0030\u0082\u0001', '/key': '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' });
    await expect(loadClientTls({ path: null, pem: [] }, { ca: { key: 'k', file: '/der' } }, read)).rejects.toThrow(/found none \(DER\?/);
    await expect(loadClientTls({ path: null, pem: [] }, { ca: { key: 'k', file: '/key' } }, read)).rejects.toThrow(/found none \(it holds a private key\)/);
  });
});

describe('src/tls/classify tlsFailure', () => {
  const cases: [string, string][] = [
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'TLS_SERVER_UNTRUSTED'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'TLS_SERVER_UNTRUSTED'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS_SERVER_UNTRUSTED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS_HOSTNAME_MISMATCH'],
    ['CERT_HAS_EXPIRED', 'TLS_CERT_EXPIRED'],
    ['CERT_NOT_YET_VALID', 'TLS_CERT_NOT_YET_VALID'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'TLS_CLIENT_CERT_REQUIRED'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'TLS_CLIENT_CERT_REJECTED'],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'TLS_CLIENT_CERT_REJECTED'],
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'TLS_HANDSHAKE_FAILED'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'TLS_HANDSHAKE_FAILED'],
  ];
  it.each(cases)('maps %s to %s and keeps the Node code', (nodeCode, code) => {
    const err = tlsFailure(Object.assign(new Error('x'), { code: nodeCode }));
    expect(err).toBeInstanceOf(TlsError);
    expect(err).toMatchObject({ code, nodeCode });
    expect(err!.message).toContain(`(${nodeCode})`);
  });

  it('finds the TLS error along the cause chain', () => {
    const inner = Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
    expect(tlsFailure(new Error('fetch failed', { cause: inner }))?.code).toBe('TLS_CERT_EXPIRED');
  });

  it('names the config keys to change', () => {
    const ctx = { caKey: 'cincinnati.ca_file', certKey: 'updates.fleet_lock.client_cert_file' };
    expect(tlsFailure({ code: 'SELF_SIGNED_CERT_IN_CHAIN' }, ctx)?.message).toContain("trusted: the host's CA store and cincinnati.ca_file");
    expect(tlsFailure({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }, ctx)?.message).toContain('(set updates.fleet_lock.client_cert_file)');
  });

  it('reads a bad_certificate or handshake_failure alert as "certificate required" when none was presented', () => {
    const ctx = { certKey: 'store.etcd.cert_file', presentedCert: false };
    expect(tlsFailure({ code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' }, ctx)?.code).toBe('TLS_CLIENT_CERT_REQUIRED');
    expect(tlsFailure({ code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }, ctx)?.code).toBe('TLS_CLIENT_CERT_REQUIRED');
    expect(tlsFailure({ code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' }, { presentedCert: true })?.code).toBe('TLS_CLIENT_CERT_REJECTED');
  });

  it('is null for failures that are not TLS', () => {
    expect(tlsFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeNull();
    expect(tlsFailure(new Error('timeout'))).toBeNull();
    expect(tlsFailure('text')).toBeNull();
  });
});
