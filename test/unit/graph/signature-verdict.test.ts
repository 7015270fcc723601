// alt-graphd's reading of `ostree show --gpg-homedir` output (texts captured from ostree 2022.7).
import { describe, expect, it } from 'vitest';
import { signatureVerdict } from '../../../src/graph-server/signatures.js';

const HEAD = 'commit 68976de905beb94cef35c173dc4de816d1193d63f77586be9c11f271f5987782\nContentChecksum:  710c\nDate:  2026-12-01 21:46:53 +0000\n\n    v1\n\n';
const GOOD = '  Signature made Tue Dec  1 21:46:53 2026 using EdDSA key ID 246DB8612F823F8A\n  Good signature from "alt-updated test release key <releases@test.invalid>"\n';
const UNKNOWN = '  Signature made Tue Dec  1 21:46:57 2026 using EdDSA key ID 183D35200B880650\n  Can\'t check signature: public key not found\n';
const EXPIRED = '  Signature made Tue Dec  1 21:46:57 2026 using RSA key ID 0123456789ABCDEF\n  Good signature from "old key"\n  Key expired Mon Jan  1 00:00:00 2024\n';

describe('signatureVerdict', () => {
  it.each([
    ['no signature block', HEAD, 'unsigned'],
    ['one good signature', `${HEAD}Found 1 signature:\n\n${GOOD}`, 'verified'],
    ['only an unknown key', `${HEAD}Found 1 signature:\n\n${UNKNOWN}`, 'untrusted'],
    ['an unknown key beside a good one', `${HEAD}Found 2 signatures:\n\n${UNKNOWN}\n${GOOD}`, 'verified'],
    ['a good signature from an expired key', `${HEAD}Found 1 signature:\n\n${EXPIRED}`, 'untrusted'],
    ['a BAD signature', `${HEAD}Found 1 signature:\n\n  Signature made x using EdDSA key ID 1\n  BAD signature from "x"\n`, 'untrusted'],
  ])('%s', (_name, text, verdict) => {
    expect(signatureVerdict(text)).toBe(verdict);
  });
});
