// os-release(5) parsing and the ALT stream fallback. ALT publishes `ALT_BRANCH_ID` (e.g. `p11`);
// ALT Atomic images keep `ID=<product>` with `ID_LIKE=altlinux`, so both forms count as ALT.
import { IdentityError } from './errors.js';

/** Parses os-release text: `KEY=value` lines, optional single/double quotes, `\` escapes in double quotes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    let v = m[2].trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(["\\`$])/g, '$1');
    else if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

/** True when os-release says ALT: `ID=altlinux` or `altlinux` among the words of `ID_LIKE`. */
export function isAltLinux(fields: Readonly<Record<string, string>>): boolean {
  if (fields['ID'] === 'altlinux') return true;
  return (fields['ID_LIKE'] ?? '').split(/\s+/).includes('altlinux');
}

/** The stream from an ALT os-release (`ALT_BRANCH_ID`); typed errors for other distros or no branch. */
export function streamFromOsRelease(fields: Readonly<Record<string, string>>, file: string): string {
  if (!isAltLinux(fields)) {
    throw new IdentityError(
      'IDENTITY_NOT_ALT',
      `${file}: not ALT Linux (ID=${fields['ID'] ?? '(unset)'}, ID_LIKE=${fields['ID_LIKE'] ?? '(unset)'}); set identity.stream to run here`,
    );
  }
  const branch = fields['ALT_BRANCH_ID'];
  if (!branch) throw new IdentityError('IDENTITY_NO_STREAM', `${file}: ALT_BRANCH_ID is not set; set identity.stream`);
  if (!/^[a-zA-Z0-9._-]+$/.test(branch)) {
    throw new IdentityError('IDENTITY_INVALID', `${file}: ALT_BRANCH_ID: expected a stream name, got ${JSON.stringify(branch)}`);
  }
  return branch;
}
