// Bad trust settings, with real files made by openssl: each is an error naming the key and the
// file, raised when the files are loaded at start-up (alt-fleetlockd exits 1 before listening).
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCaFile, loadCertAndKey } from '../../../src/tls/trust.js';
import { createTestPki, type TestPki } from '../../helpers/tls.js';
import { runServerToExit } from '../fleetlock/spawn.js';

const run = promisify(execFile);
let pki: TestPki;
const at = (name: string): string => join(pki.dir, name);
const CERT = 'updates.fleet_lock.client_cert_file';
const KEY = 'updates.fleet_lock.client_key_file';

beforeAll(async () => {
  pki = await createTestPki();
  await run('openssl', ['x509', '-in', pki.ca.certFile, '-outform', 'der', '-out', at('ca.der')]);
  await run('openssl', ['pkey', '-in', pki.client.keyFile, '-aes256', '-passout', 'pass:secret', '-out', at('encrypted.key')]);
  // Damage the base64 inside the PEM armour: still "a PEM certificate" by its markers, not by content.
  await writeFile(at('corrupt.crt'), pki.ca.cert.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!corrupted!!!!!!!'));
  await writeFile(at('corrupt.key'), pki.client.key.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA'));
});
afterAll(async () => {
  await pki?.remove();
});

describe('certificate, key and CA files checked at start-up', () => {
  it('loads a matching certificate and key, and a CA bundle', async () => {
    await expect(loadCertAndKey({ key: CERT, file: pki.client.certFile }, { key: KEY, file: pki.client.keyFile })).resolves.toEqual({
      cert: pki.client.cert,
      key: pki.client.key,
    });
    await expect(loadCaFile({ key: 'cincinnati.ca_file', file: pki.ca.certFile })).resolves.toBe(pki.ca.cert);
  });

  it.each([
    ['a DER CA file', 'cincinnati.ca_file', 'ca.der', "expected PEM certificates ('-----BEGIN CERTIFICATE-----'), found none (DER? convert it with openssl x509 -inform der)"],
    ['a corrupt CA certificate', 'cincinnati.ca_file', 'corrupt.crt', 'certificate 1 is corrupt'],
    ['a key given as the CA file', 'cincinnati.ca_file', 'client.key', "expected PEM certificates ('-----BEGIN CERTIFICATE-----'), found none (it holds a private key)"],
    ['a missing CA file', 'cincinnati.ca_file', 'absent.crt', 'cannot read: no such file'],
  ])('rejects %s, naming the key and the file', async (_what, key, name, problem) => {
    await expect(loadCaFile({ key, file: at(name) })).rejects.toThrow(`${key}: '${at(name)}': ${problem}`);
  });

  it.each([
    ['a corrupt key', 'client.crt', 'corrupt.key', KEY, 'the private key is corrupt'],
    ['a certificate in the key file', 'client.crt', 'server.crt', KEY, 'expected a PEM private key'],
    ['an encrypted key', 'client.crt', 'encrypted.key', KEY, 'the private key is encrypted'],
    ['the key of another certificate', 'client.crt', 'server.key', KEY, `the private key does not belong to the certificate in '`],
    ['a key in the certificate file', 'client.key', 'client.key', CERT, "expected PEM certificates ('-----BEGIN CERTIFICATE-----'), found none (it holds a private key)"],
  ])('rejects %s, naming the key and the file', async (_what, cert, key, badKey, problem) => {
    const err = await loadCertAndKey({ key: CERT, file: at(cert) }, { key: KEY, file: at(key) }).catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'TLS_FILE_INVALID', key: badKey });
    expect((err as Error).message).toContain(`${badKey}: '${at(badKey === KEY ? key : cert)}': ${problem}`);
  });

  it('alt-fleetlockd exits 1 at start-up, naming tls.key_file, when its key does not match its certificate', async () => {
    const config = at('fleetlockd.toml');
    await writeFile(
      config,
      `listen = "127.0.0.1:0"\n[tls]\ncert_file = "${pki.server.certFile}"\nkey_file = "${pki.client.keyFile}"\n[store]\nstate_dir = "${at('state')}"\n[groups.default]\n`,
    );
    const { code, output } = await runServerToExit(['--config', config]);
    expect(code).toBe(1);
    expect(output).toContain(`tls.key_file: '${pki.client.keyFile}': the private key does not belong to the certificate in '${pki.server.certFile}'`);
    expect(output).not.toContain('listening');
  });
});
