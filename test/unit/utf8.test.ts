import { describe, expect, it } from 'vitest';
import { decodeUtf8 } from '../../src/common/utf8.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('common/utf8 decodeUtf8', () => {
  it('decodes valid UTF-8, multi-byte characters included, and drops a byte-order mark', () => {
    expect(decodeUtf8(bytes('a = "Привет, 世界 🎉"\n'))).toEqual({ ok: true, text: 'a = "Привет, 世界 🎉"\n' });
    expect(decodeUtf8(bytes([0xef, 0xbb, 0xbf], 'x'))).toEqual({ ok: true, text: 'x' });
  });

  it.each([
    ['a lone 0xff', [0xff]],
    ['a lone continuation byte', [0x80]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an overlong NUL', [0xe0, 0x80, 0x80]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated character', [0xe4, 0xb8]],
  ])('rejects %s and names its line', (_what, bad) => {
    expect(decodeUtf8(bytes('one\ntwo = "é"\nthree = "', bad, '"\nfour\n'))).toEqual({ ok: false, line: 3 });
    expect(decodeUtf8(bytes(bad))).toEqual({ ok: false, line: 1 });
  });

  it('names the line of a truncated character at the very end', () => {
    expect(decodeUtf8(bytes('a\nb\n', [0xf0, 0x9f]))).toEqual({ ok: false, line: 3 });
  });
});
