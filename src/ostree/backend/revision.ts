// rpm-ostree's revision syntax (`rust/src/daemon.rs` parse_revision), as a pure function.
import { TransactionFailure } from './errors.js';

/** A parsed `Deploy` revision: an exact commit or a `version` metadata value. */
export type Revision = { readonly kind: 'checksum'; readonly checksum: string } | { readonly kind: 'version'; readonly version: string };

const HEX64 = /^[0-9a-fA-F]{64}$/;

/**
 * Parses a revision the way rpm-ostree does: `revision=<64 hex>` and bare 64-hex strings are
 * checksums, `version=<v>` and anything else is a version; prefixes are case-insensitive.
 */
export function parseRevision(input: string): Revision {
  const lower = input.toLowerCase();
  if (lower.startsWith('revision=')) {
    const rest = input.slice('revision='.length);
    if (!HEX64.test(rest)) throw new TransactionFailure(`Invalid checksum '${rest}'`);
    return { kind: 'checksum', checksum: rest.toLowerCase() };
  }
  if (lower.startsWith('version=')) return { kind: 'version', version: input.slice('version='.length) };
  if (HEX64.test(input)) return { kind: 'checksum', checksum: input.toLowerCase() };
  return { kind: 'version', version: input };
}

/** Splits an ostree refspec `remote:ref` (remote may be absent). */
export function splitRefspec(refspec: string): { remote: string | null; ref: string } {
  const i = refspec.indexOf(':');
  return i < 0 ? { remote: null, ref: refspec } : { remote: refspec.slice(0, i), ref: refspec.slice(i + 1) };
}

/** rpm-ostree's OS object path escaping (`generate_object_path`): keeps [A-Za-z0-9_], `-`/`/` to `_`, else `_XX`. */
export function osObjectPath(osname: string): string {
  let out = '';
  for (const byte of Buffer.from(osname, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9_]/.test(c)) out += c;
    else if (c === '-' || c === '/') out += '_';
    else out += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `/org/projectatomic/rpmostree1/${out}`;
}
