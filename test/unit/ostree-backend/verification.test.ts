// Refusal reasons from ostree 2022.7's own error texts (captured from real pulls in
// test/integration/ostree-backend/signed-commits.test.ts), and what is not a refusal.
import { describe, expect, it } from 'vitest';
import { refusalFromPull } from '../../../src/ostree/backend/verification.js';
import { refusalReason } from '../../../src/ostree/verification.js';

const C = 'ea2a49b24fd7747bb3e9002efd20ef8030eef25cb73b8e1c6ea617be9b298622';
const O = 'd5a986f4e9396a4bdf2a3baca70b7c9dd1c9ee1c26581b69fca24660bb9ab5a9';

describe('refusalReason', () => {
  it.each([
    [`error: Commit ${C}: GPG verification enabled, but no signatures found (use gpg-verify=false in remote config to disable)`, 'unsigned'],
    [`error: Commit ${C}: Signature made Tue Dec  1 21:46:57 2026 using EdDSA key ID 183D35200B880650\nCan't check signature: public key not found`, 'unknown_key'],
    [`error: Writing content object: Corrupted file object; checksum expected='${O}' actual='fbf7'`, 'corrupted'],
    [`error: Commit ${C}: Signature made ... using RSA key ID 1234\nBAD signature from "x"`, 'bad_signature'],
    [`error: Commit ${C}: Signature made ... Key expired`, 'expired_key'],
    // containers/image under skopeo 1.9 / bootc, refusing images under policy.json (captured in
    // test/integration/ostree-backend/bootc-staging.test.ts).
    ['error: Pulling r/alt/atomic:stable: FATA[0000] copying system image from manifest list: Source image rejected: A signature was required, but no signature exists', 'signature_policy'],
    ['Source image rejected: Invalid GPG signature: gpgme.Signature{Status:gpgme.Error{err:0x9}, Summary:128, Fingerprint:"ABC"}', 'signature_policy'],
    [`image r/alt/atomic@sha256:${C} refused by verification (signature_policy): policy /etc/containers/policy.json: x`, 'signature_policy'],
  ])('names the reason in %j', (text, reason) => {
    expect(refusalReason(text)).toBe(reason);
  });

  it.each([
    'error: While fetching http://127.0.0.1:1/config: Server returned HTTP 404',
    'error: Could not resolve host: example.invalid',
    'error: No space left on device',
    '',
  ])('is null for failures that are not refusals: %j', (text) => {
    expect(refusalReason(text)).toBeNull();
  });
});

describe('refusalFromPull', () => {
  it('names the asked-for commit, not the content object ostree names', () => {
    const e = refusalFromPull(C, `error: Writing content object: Corrupted file object; checksum expected='${O}' actual='x'`);
    expect(e).toMatchObject({ code: 'OSTREED_COMMIT_REFUSED', commit: C, reason: 'corrupted' });
    expect(e?.message).toBe(`commit ${C} refused by verification (corrupted): Writing content object: Corrupted file object; checksum expected='${O}' actual='x'`);
  });

  it('names the commit ostree names when a ref was asked for', () => {
    const e = refusalFromPull('altcos:stream', `error: Commit ${C}: GPG verification enabled, but no signatures found`);
    expect(e).toMatchObject({ commit: C, reason: 'unsigned' });
  });

  it('is null for a network failure', () => {
    expect(refusalFromPull(C, 'error: Server returned HTTP 500')).toBeNull();
  });
});
