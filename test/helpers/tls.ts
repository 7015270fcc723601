// Test harness: a throw-away PKI made by `openssl` in a temporary directory. One trusted CA signs a
// server certificate for 127.0.0.1, one for a wrong host name, an expired one and a client
// certificate; a second, untrusted CA signs another server certificate. `remove()` deletes it all.
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key, as file paths and PEM text. */
export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

/** The test PKI. */
export interface TestPki {
  /** The directory holding every file. */
  readonly dir: string;
  /** The trusted CA (its certificate is what clients are told to trust). */
  readonly ca: CertFiles;
  /** A CA nobody trusts. */
  readonly otherCa: CertFiles;
  /** Server certificate for IP 127.0.0.1 and DNS localhost, signed by `ca`. */
  readonly server: CertFiles;
  /** Server certificate for `wrong.example` only, signed by `ca`. */
  readonly wrongHost: CertFiles;
  /** Server certificate for 127.0.0.1 that expired yesterday, signed by `ca`. */
  readonly expired: CertFiles;
  /** Server certificate for 127.0.0.1 signed by `otherCa`. */
  readonly untrusted: CertFiles;
  /** Client certificate (CN `node-1`, clientAuth) signed by `ca`. */
  readonly client: CertFiles;
  /** Client certificate signed by `otherCa`. */
  readonly untrustedClient: CertFiles;
  /** Client certificate without a CommonName (subject `O=alt-fleetlockd`) signed by `ca`: what etcd 3.4's gateway needs with auth on. */
  readonly noCnClient: CertFiles;
  /** Deletes the directory. */
  remove(): Promise<void>;
}

const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function load(dir: string, name: string): Promise<CertFiles> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

async function makeCa(dir: string, name: string): Promise<CertFiles> {
  await run('openssl', ['req', '-x509', ...KEY_ARGS, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`),
    '-subj', `/CN=alt-updated test ${name}`, '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return load(dir, name);
}

/** Issues a leaf certificate; `days` -1 makes one whose notAfter is a day before its notBefore (expired). */
async function issue(dir: string, ca: CertFiles, name: string, subject: string, ext: string, days: number): Promise<CertFiles> {
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, `${ext}\n`);
  await run('openssl', ['req', '-new', ...KEY_ARGS, '-keyout', join(dir, `${name}.key`), '-out', csr, '-subj', subject]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(randomInt(1, 2 ** 47)),
    '-out', join(dir, `${name}.crt`), '-days', String(days), '-extfile', extFile]);
  return load(dir, name);
}

// clientAuth too: etcd's JSON gateway dials its own gRPC port with the server certificate.
const SERVER_EXT = 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth';
const CLIENT_EXT = 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth';

/** Creates the PKI in a fresh temporary directory. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'alt-pki-'));
  try {
    const ca = await makeCa(dir, 'ca');
    const otherCa = await makeCa(dir, 'other-ca');
    const local = `${SERVER_EXT}\nsubjectAltName=IP:127.0.0.1,DNS:localhost`;
    const [server, wrongHost, expired, untrusted, client, untrustedClient, noCnClient] = await Promise.all([
      issue(dir, ca, 'server', '/CN=127.0.0.1', local, 2),
      issue(dir, ca, 'wrong-host', '/CN=wrong.example', `${SERVER_EXT}\nsubjectAltName=DNS:wrong.example`, 2),
      issue(dir, ca, 'expired', '/CN=127.0.0.1', local, -1),
      issue(dir, otherCa, 'untrusted', '/CN=127.0.0.1', local, 2),
      issue(dir, ca, 'client', '/CN=node-1', CLIENT_EXT, 2),
      issue(dir, otherCa, 'untrusted-client', '/CN=node-2', CLIENT_EXT, 2),
      issue(dir, ca, 'no-cn-client', '/O=alt-fleetlockd', CLIENT_EXT, 2),
    ]);
    return {
      dir, ca, otherCa, server, wrongHost, expired, untrusted, client, untrustedClient, noCnClient,
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err: unknown) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
