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

/** A file's text, or why it is not UTF-8 with the message naming the file and line. */
export type Utf8FileResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly line: number; readonly message: string };

/**
 * Decodes the bytes of a configuration file (TOML is UTF-8 by definition). Every TOML loader goes
 * through this, so they all refuse the same files with the same `FILE:LINE: ...` message.
 */
export function decodeUtf8File(bytes: Uint8Array, file: string): Utf8FileResult {
  const r = decodeUtf8(bytes);
  if (r.ok) return r;
  return { ok: false, line: r.line, message: `${file}:${r.line}: not valid UTF-8 (TOML files must be UTF-8)` };
}
