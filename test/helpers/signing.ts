// Test fixture: real OpenPGP release keys made by `gpg` in batch mode, signing real ostree commits
// (`ostree gpg-sign`), and the remote settings that make a repo verify them. Each key lives in its own
// GNUPGHOME under a temporary directory; close() stops its gpg-agent and removes the directory.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A release signing key. */
export interface SigningKey {
  /** GNUPGHOME holding the secret key. */
  readonly homedir: string;
  /** The key's fingerprint (what `ostree gpg-sign` and `--gpg-sign` take). */
  readonly keyId: string;
  /** The exported public key (binary), for `ostree remote gpg-import -k` or a keyring. */
  readonly publicKeyFile: string;
  /** Signs `checksum` in the repo at `repoPath` (adds a detached signature to its commitmeta). */
  sign(repoPath: string, checksum: string): Promise<void>;
  /** Stops the key's gpg-agent and removes its directory. */
  close(): Promise<void>;
}

/** Generates an ed25519 OpenPGP signing key without a passphrase, named `name`. */
export async function createSigningKey(name = 'alt-updated test releases', parent?: string): Promise<SigningKey> {
  const homedir = await mkdtemp(join(parent ?? tmpdir(), 'alt-gpg-'));
  const env = { ...process.env, GNUPGHOME: homedir };
  const params = join(homedir, 'key.params');
  await writeFile(
    params,
    ['%no-protection', 'Key-Type: EDDSA', 'Key-Curve: ed25519', 'Key-Usage: sign', `Name-Real: ${name}`, 'Expire-Date: 0', '%commit', ''].join('\n'),
  );
  await run('gpg', ['--batch', '--quiet', '--gen-key', params], { env });
  const { stdout } = await run('gpg', ['--batch', '--with-colons', '--list-keys'], { env });
  const keyId = /^fpr:+([0-9A-F]{40}):/m.exec(stdout)?.[1];
  if (keyId === undefined) throw new Error(`gpg made no key in ${homedir}: ${stdout}`);
  const publicKeyFile = join(homedir, 'public.gpg');
  await run('gpg', ['--batch', '--output', publicKeyFile, '--export', keyId], { env });
  return {
    homedir,
    keyId,
    publicKeyFile,
    async sign(repoPath, checksum) {
      await run('ostree', [`--repo=${repoPath}`, 'gpg-sign', `--gpg-homedir=${homedir}`, checksum, keyId], { env });
    },
    async close() {
      await run('gpgconf', ['--homedir', homedir, '--kill', 'all'], { env }).catch(() => undefined);
      await rm(homedir, { recursive: true, force: true });
    },
  };
}

/**
 * Makes `remote` in the repo at `repoPath` verify OpenPGP signatures against `trusted` only
 * (gpg-verify=true, the keys imported into the remote's own keyring).
 */
export async function requireSignatures(repoPath: string, remote: string, trusted: readonly SigningKey[]): Promise<void> {
  await run('ostree', [`--repo=${repoPath}`, 'config', 'set', `remote "${remote}".gpg-verify`, 'true']);
  await trustKeys(repoPath, remote, trusted);
}

/** Adds `keys` to the keyring of `remote` (its gpg-verify setting stays as it is). */
export async function trustKeys(repoPath: string, remote: string, keys: readonly SigningKey[]): Promise<void> {
  for (const key of keys) {
    await run('ostree', [`--repo=${repoPath}`, 'remote', 'gpg-import', remote, '-k', key.publicKeyFile]);
  }
}

/** True when the installed ostree can sign with ed25519 (`ostree sign`, built with libsodium). */
export async function ostreeHasEd25519(): Promise<boolean> {
  const { stdout } = await run('ostree', ['--version']);
  return /sign-ed25519/.test(stdout);
}

let fixtureKey: Promise<SigningKey> | null = null;

/**
 * The release key every fixture repo signs its commits with and every fixture sysroot's remote
 * trusts (gpg-verify=true), made once per process (per test file under vitest) in the temp dir, so
 * that tests, the demo and the benchmarks run with signature verification on, as shipped.
 */
export function fixtureSigningKey(): Promise<SigningKey> {
  fixtureKey ??= createSigningKey('alt-updated fixture releases');
  return fixtureKey;
}

/** Stops the fixture key's gpg-agent and removes it (the demo and benchmarks call this at exit). */
export async function closeFixtureSigningKey(): Promise<void> {
  const key = fixtureKey;
  fixtureKey = null;
  if (key !== null) await (await key).close();
}
