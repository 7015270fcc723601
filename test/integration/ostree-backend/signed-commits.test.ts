// alt-ostreed stages only what the remote's verification settings allow: real OpenPGP keys made by
// gpg, commits signed with `ostree gpg-sign`, a remote with gpg-verify=true, served over HTTP (and a
// file:// remote for the tampering case, where ostree trusts local objects unless told otherwise).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processRunner } from '../../../src/ostree/backend/command.js';
import { OstreeCli } from '../../../src/ostree/backend/ostree-cli.js';
import { CommitRefusedError } from '../../../src/ostree/backend/verification.js';
import { startBackend, type RunningBackend } from '../../helpers/alt-ostreed.js';
import { BACKEND_REF, startBackendWorld, type BackendWorld } from '../../helpers/backend-world.js';
import { createRepo, ostree, type FixtureCommit, type FixtureRepo } from '../../helpers/ostree-repo.js';
import { createSigningKey, fixtureSigningKey, trustKeys, type SigningKey } from '../../helpers/signing.js';
import { connectClient, opts, runTransaction, type Client } from './rpmostree-client.js';

const REF = BACKEND_REF;

/** Replaces the bytes of one content object only `victim` has with another object's: altered after signing. */
async function alterObjectOf(repo: FixtureRepo, victim: FixtureCommit, donor: FixtureCommit): Promise<void> {
  const objects = async (c: FixtureCommit) =>
    new Set(
      (await ostree([`--repo=${repo.path}`, 'ls', '-R', '-C', c.checksum]))
        .split('\n')
        .filter((l) => l.startsWith('-')) // regular files: their content objects are `.filez`
        .map((l) => l.trim().split(/\s+/)[4] ?? ''),
    );
  const mine = await objects(victim);
  const theirs = await objects(donor);
  const only = [...mine].find((o) => /^[0-9a-f]{64}$/.test(o) && !theirs.has(o));
  const other = [...theirs].find((o) => /^[0-9a-f]{64}$/.test(o) && !mine.has(o));
  if (only === undefined || other === undefined) throw new Error('no object unique to the victim commit');
  const file = (o: string) => join(repo.path, 'objects', o.slice(0, 2), `${o.slice(2)}.filez`);
  await writeFile(file(only), await readFile(file(other)));
}

describe('alt-ostreed and signed commits', () => {
  let trusted: SigningKey;
  let stranger: SigningKey;
  let repo: FixtureRepo;
  let world: BackendWorld | undefined;
  let daemon: RunningBackend;
  let client: Client;
  const c: Record<'boot' | 'signed' | 'unsigned' | 'unknownKey' | 'altered', FixtureCommit> = {} as never;

  const stagedChecksum = async () => ((await client.deployments()).find((d) => d['staged'])?.['checksum'] as string | undefined) ?? null;
  const deploy = async (commit: FixtureCommit) =>
    runTransaction(String(await client.callOS('Deploy', `revision=${commit.checksum}`, opts({ 'skip-branch-check': true, 'lock-finalization': true }))));

  beforeAll(async () => {
    [trusted, stranger] = await Promise.all([createSigningKey('trusted releases'), createSigningKey('a stranger')]);
    repo = await createRepo(undefined, { sign: false });
    c.boot = await repo.commit({ ref: REF, version: '20260101.0', timestamp: '2026-01-01 00:00:00' });
    // The fixture sysroot's remote trusts the fixture key: the booted commit carries both signatures.
    await (await fixtureSigningKey()).sign(repo.path, c.boot.checksum);
    await trusted.sign(repo.path, c.boot.checksum);
    c.signed = await repo.commit({ ref: REF, version: '20260201.0', timestamp: '2026-02-01 00:00:00' });
    await trusted.sign(repo.path, c.signed.checksum);
    c.unsigned = await repo.commit({ ref: REF, version: '20260301.0', timestamp: '2026-03-01 00:00:00' });
    c.unknownKey = await repo.commit({ ref: REF, version: '20260401.0', timestamp: '2026-04-01 00:00:00' });
    await stranger.sign(repo.path, c.unknownKey.checksum);
    c.altered = await repo.commit({ ref: REF, version: '20260501.0', timestamp: '2026-05-01 00:00:00' });
    await trusted.sign(repo.path, c.altered.checksum);
    await alterObjectOf(repo, c.altered, c.signed);
    const w = (world = await startBackendWorld(repo, c.boot.checksum));
    // Only the key is added: the fixture sysroot's remote verifies signatures as shipped (gpg-verify
    // is not set by this test), so the refusals below also prove the fixtures run with it on.
    await trustKeys(join(w.sysroot.path, 'ostree/repo'), w.sysroot.remote, [trusted]);
    daemon = await startBackend({ busAddress: w.bus.address, sysroot: w.sysroot });
    client = await connectClient(w.bus.address);
  });

  afterAll(async () => {
    client?.close();
    await daemon?.stop();
    await world?.close();
    await trusted?.close();
    await stranger?.close();
  });

  it.each([
    ['unsigned', 'unsigned'],
    ['unknownKey', 'unknown_key'],
    ['altered', 'corrupted'],
  ] as const)('refuses the %s commit, naming the commit and the reason, and stages nothing', async (which, reason) => {
    const r = await deploy(c[which]);
    expect(r.success).toBe(false);
    expect(r.error).toContain(`commit ${c[which].checksum} refused by verification (${reason})`);
    expect(await stagedChecksum()).toBeNull();
  });

  it('stages a commit signed with a key the remote trusts, locked', async () => {
    const r = await deploy(c.signed);
    expect(r).toMatchObject({ success: true });
    expect(await stagedChecksum()).toBe(c.signed.checksum);
  });

  it('refuses objects altered after signing from a file:// remote too (ostree trusts local sources unless --untrusted)', async () => {
    const sysroot = world!.sysroot;
    const repoPath = join(sysroot.path, 'ostree/repo');
    await ostree([`--repo=${repoPath}`, 'remote', 'add', '--gpg-import', trusted.publicKeyFile, 'local', `file://${repo.path}`, REF]);
    // Outside the fake boot (its /tmp is private): the pull only needs the sysroot's repo.
    const cli = new OstreeCli({ sysroot: sysroot.path, run: processRunner([]) });
    const err = await cli.pull('local', REF, c.altered.checksum).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CommitRefusedError);
    expect(err).toMatchObject({ code: 'OSTREED_COMMIT_REFUSED', reason: 'corrupted', commit: c.altered.checksum });
  });
});
