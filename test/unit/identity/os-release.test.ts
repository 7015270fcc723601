import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdentityError } from '../../../src/identity/errors.js';
import { isAltLinux, parseOsRelease, streamFromOsRelease } from '../../../src/identity/os-release.js';

// ALT Server 11, as in protocols-and-alt-linux.md §5.7.
const ALT_SERVER_11 = `NAME="ALT Server"
VERSION="11.0"
ID=altlinux
VERSION_ID=11.0
PRETTY_NAME="ALT Server 11.0 (Mendelevium)"
ANSI_COLOR="1;33"
CPE_NAME="cpe:/o:alt:server:11.0"
BUILD_ID="ALT Server 11.0"
ALT_BRANCH_ID="p11"
VARIANT_ID=edition_server
`;
const ALT_ATOMIC = `PRETTY_NAME="ALT Atomic Onyx Nightly"
ID="alt-atomic-onyx-nightly"
ID_LIKE="altlinux"
VERSION_ID=20260316-nightly
ALT_BRANCH_ID=sisyphus
`;
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\nVARIANT_ID=coreos\n';
const FILE = '/etc/os-release';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e: unknown) {
    return e instanceof IdentityError ? e.code : 'not-an-IdentityError';
  }
  return undefined;
}

describe('identity/os-release', () => {
  it('parses quoted, single-quoted and escaped values, skipping comments and junk', () => {
    const f = parseOsRelease(`# comment\nA="x \\"y\\" \\$z"\nB='q w'\nC=plain\n  D = bad\nnot a line\nE=\n`);
    expect(f).toEqual({ A: 'x "y" $z', B: 'q w', C: 'plain', E: '' });
  });

  it.each([
    ['ALT Server 11', ALT_SERVER_11, 'p11'],
    ['ALT Atomic (ID_LIKE=altlinux)', ALT_ATOMIC, 'sisyphus'],
    ['ID_LIKE with several words', 'ID=ximper\nID_LIKE="fedora altlinux"\nALT_BRANCH_ID=p10\n', 'p10'],
  ])('reads ALT_BRANCH_ID from %s', (_name, text, stream) => {
    expect(streamFromOsRelease(parseOsRelease(text), FILE)).toBe(stream);
  });

  it.each([
    ['another distribution', FEDORA, 'IDENTITY_NOT_ALT'],
    ['ID_LIKE containing altlinux only as a substring', 'ID=x\nID_LIKE=altlinuxish\nALT_BRANCH_ID=p11\n', 'IDENTITY_NOT_ALT'],
    ['ALT without ALT_BRANCH_ID', 'ID=altlinux\nVERSION_ID=20260316\n', 'IDENTITY_NO_STREAM'],
    ['ALT_BRANCH_ID with unsafe characters', 'ID=altlinux\nALT_BRANCH_ID="p1${x}"\n', 'IDENTITY_INVALID'],
  ])('rejects %s', (_name, text, code) => {
    expect(codeOf(() => streamFromOsRelease(parseOsRelease(text), FILE))).toBe(code);
  });

  it('recognises ALT by ID or ID_LIKE only', () => {
    expect(isAltLinux({ ID: 'altlinux' })).toBe(true);
    expect(isAltLinux({ ID: 'alt-atomic', ID_LIKE: 'altlinux' })).toBe(true);
    expect(isAltLinux({ ID: 'fedora' })).toBe(false);
  });

  it('never throws on arbitrary text, and streamFromOsRelease throws only IdentityError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const fields = parseOsRelease(text);
        const code = codeOf(() => streamFromOsRelease(fields, FILE));
        expect(code === undefined || code.startsWith('IDENTITY_')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips KEY="value" lines for values without quotes or backslashes', () => {
    const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/);
    const value = fc.stringMatching(/^[^"\\`$\n\r]{0,20}$/).map((v) => v.trim());
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (dict) => {
        const text = Object.entries(dict).map(([k, v]) => `${k}="${v}"`).join('\n');
        expect(parseOsRelease(text)).toEqual({ ...dict });
      }),
    );
  });
});
