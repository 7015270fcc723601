// Strict UTF-8 decoding for bytes from outside: configuration files and request bodies. Node's
// default decoding turns every invalid sequence into U+FFFD, so distinct inputs (`node-\xff`,
// `node-\xfe`) become one string and a broken file loads with garbage in it; callers reject instead.

const strict = new TextDecoder('utf-8', { fatal: true });

/** Decoded text, or the 1-based line holding the first byte sequence that is not UTF-8. */
export type Utf8Result = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly line: number };

/**
 * Decodes `bytes` as UTF-8, rejecting invalid and overlong sequences, surrogates and truncated
 * characters (a leading byte-order mark is dropped). On failure it finds the line by decoding line
 * by line: 0x0a never occurs inside a multi-byte sequence, so the split cannot cut a character.
 */
export function decodeUtf8(bytes: Uint8Array): Utf8Result {
  try {
    return { ok: true, text: strict.decode(bytes) };
  } catch {
    let start = 0;
    for (let line = 1; ; line++) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl < 0 ? bytes.length : nl;
      try {
        strict.decode(bytes.subarray(start, end));
      } catch {
        return { ok: false, line };
      }
      if (nl < 0) return { ok: false, line };
      start = nl + 1;
    }
  }
}
