// What a TLS client trusts and presents, read once at start-up. The host's CA store is found by
// probing the bundle paths of the distributions we know (not hard-coded to one), a CA file from the
// configuration is added to it (never replacing it), and a client certificate and key are checked
// to be what they claim. Node's bundled Mozilla list is only the fallback for a host without any
// bundle: on a distribution, the host store is the administrator's word on whom to trust (a CA
// removed there must not stay trusted through Node's copy). Every bad file is a TlsFileError that
// names the file and the key, so it surfaces at start-up and not at the first request.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile as fsReadFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { TlsFileError } from './errors.js';

/** Host CA bundles, probed in this order; the first that holds a certificate wins. */
export const HOST_CA_BUNDLES: readonly string[] = [
  '/etc/pki/tls/certs/ca-bundle.crt', // ALT (ca-certificates), Fedora/RHEL
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine, Gentoo, Arch
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // Fedora/RHEL/CentOS extracted store
  '/var/lib/ca-certificates/ca-bundle.pem', // SUSE
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/ssl/cert.pem', // Alpine (LibreSSL layout), the BSDs
];

/** Reads a whole file; rejects (e.g. ENOENT) when it cannot. Injected so tests need no real /etc. */
export type ReadFile = (path: string) => Promise<Buffer>;

/** The host's trust store as found at start-up. */
export interface HostTrust {
  /** The bundle used (under the root), or null when none was found and Node's list stands in. */
  readonly path: string | null;
  /** PEM text of the trusted CAs. */
  readonly pem: readonly string[];
}

/** What one TLS client trusts and presents: plain PEM text, no library types. */
export interface ClientTls {
  /** CA certificates to trust (PEM); replaces Node's default list when passed to a TLS connect. */
  readonly ca: readonly string[];
  /** Client certificate chain (PEM), or null. */
  readonly cert: string | null;
  /** Client private key (PEM), or null. */
  readonly key: string | null;
}

/** A file and the configuration key that names it. */
export interface KeyedFile {
  /** Dotted configuration key, e.g. `updates.fleet_lock.ca_file`. */
  readonly key: string;
  /** The file's path. */
  readonly file: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Finds the host's CA bundle under `root` (default `/`). Never throws: no bundle means Node's list. */
export async function loadHostTrust(opts: { root?: string; readFile?: ReadFile } = {}): Promise<HostTrust> {
  const read = opts.readFile ?? fsReadFile;
  for (const path of HOST_CA_BUNDLES) {
    const full = join(opts.root ?? '/', path);
    let text: string;
    try {
      text = (await read(full)).toString('utf8');
    } catch {
      continue;
    }
    if (text.match(PEM_CERT)) return { path: full, pem: [text] };
  }
  return { path: null, pem: rootCertificates };
}

async function readKeyed(f: KeyedFile, read: ReadFile): Promise<string> {
  try {
    return (await read(f.file)).toString('utf8');
  } catch (err: unknown) {
    const code = (err as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err);
    throw new TlsFileError(f.key, f.file, `cannot read: ${why}`, err);
  }
}

/** Parses every PEM certificate in `text`; throws naming the file and key when there is none or one is broken. */
export function parseCertificates(f: KeyedFile, text: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    const hint = text.includes('PRIVATE KEY-----') ? ' (it holds a private key)' : text.includes('-----BEGIN') ? '' : ' (DER? convert it with openssl x509 -inform der)';
    throw new TlsFileError(f.key, f.file, `expected PEM certificates ('-----BEGIN CERTIFICATE-----'), found none${hint}`);
  }
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err: unknown) {
      throw new TlsFileError(f.key, f.file, `certificate ${String(i + 1)} is corrupt: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  });
}

function parseKey(f: KeyedFile, text: string): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    const hint = text.includes('BEGIN CERTIFICATE') ? ' (it holds a certificate)' : '';
    throw new TlsFileError(f.key, f.file, `expected a PEM private key ('-----BEGIN PRIVATE KEY-----'), found none${hint}`);
  }
  if (text.includes('ENCRYPTED')) throw new TlsFileError(f.key, f.file, 'the private key is encrypted; a daemon cannot ask for its passphrase');
  try {
    return createPrivateKey(text);
  } catch (err: unknown) {
    throw new TlsFileError(f.key, f.file, `the private key is corrupt: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/**
 * Reads and checks a certificate chain and its key: both PEM, the key intact and matching the
 * first certificate. Returns the PEM texts.
 */
export async function loadCertAndKey(cert: KeyedFile, key: KeyedFile, read: ReadFile = fsReadFile): Promise<{ cert: string; key: string }> {
  const [certText, keyText] = await Promise.all([readKeyed(cert, read), readKeyed(key, read)]);
  const leaf = parseCertificates(cert, certText)[0]!;
  const keyObject = parseKey(key, keyText);
  if (!leaf.checkPrivateKey(keyObject)) {
    throw new TlsFileError(key.key, key.file, `the private key does not belong to the certificate in '${cert.file}' (${cert.key})`);
  }
  return { cert: certText, key: keyText };
}

/** Reads and checks a CA bundle file; returns its PEM text. */
export async function loadCaFile(ca: KeyedFile, read: ReadFile = fsReadFile): Promise<string> {
  const text = await readKeyed(ca, read);
  parseCertificates(ca, text);
  return text;
}

/**
 * Builds what one client trusts (host store plus `ca`) and presents (`cert` + `key`, both or
 * neither). Throws TlsFileError for a file that cannot be used.
 */
export async function loadClientTls(
  host: HostTrust,
  files: { ca?: KeyedFile | null; cert?: KeyedFile | null; key?: KeyedFile | null },
  read: ReadFile = fsReadFile,
): Promise<ClientTls> {
  const extra = files.ca ? [await loadCaFile(files.ca, read)] : [];
  const cert = files.cert ?? null;
  const key = files.key ?? null;
  if ((cert === null) !== (key === null)) {
    const missing = (cert === null ? files.key : files.cert)!;
    const other = cert === null ? 'certificate' : 'key';
    throw new TlsFileError(missing.key, missing.file, `a client ${other} is needed with it, and none is configured`);
  }
  const pair = cert && key ? await loadCertAndKey(cert, key, read) : null;
  return { ca: [...host.pem, ...extra], cert: pair?.cert ?? null, key: pair?.key ?? null };
}

/**
 * `tls` as node:tls connect options: one SecureContext built here and shared by every connection
 * (a host bundle holds ~150 CAs; passing `ca` would parse them again per connection). Empty when
 * `tls` is absent, i.e. Node's defaults.
 */
export function tlsConnectOptions(tls: ClientTls | undefined): { secureContext?: SecureContext } {
  if (tls === undefined) return {};
  const secureContext = createSecureContext({
    ca: [...tls.ca],
    ...(tls.cert === null ? {} : { cert: tls.cert }),
    ...(tls.key === null ? {} : { key: tls.key }),
  });
  return { secureContext };
}
