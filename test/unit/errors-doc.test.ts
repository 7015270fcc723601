// docs/reference/errors.md is the one table of stable error codes: every code the code base can
// throw is documented, and every documented code still exists in src/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPERATOR_ERROR_CODES } from '../../src/agent/operator/errors.js';
import { CONFIG_ERROR_CODES, CONFIG_WARNING_CODES } from '../../src/config/errors.js';
import { DBUS_ADAPTER_CODES } from '../../src/dbus/errors.js';
import { FLEETLOCK_ERROR_CODES } from '../../src/fleetlock/errors.js';
import { GRAPH_ERROR_CODES } from '../../src/graph/errors.js';
import { HEALTH_ERROR_CODES } from '../../src/health/errors.js';
import { IDENTITY_ERROR_CODES } from '../../src/identity/errors.js';
import { OSTREE_CLIENT_CODES } from '../../src/ostree/client/errors.js';
import { TLS_ERROR_CODES } from '../../src/tls/errors.js';

const doc = readFileSync(join(import.meta.dirname, '../../docs/reference/errors.md'), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const src = sources(join(import.meta.dirname, '../../src'))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

describe('docs/reference/errors.md', () => {
  it('documents every code of every capability code list', () => {
    const listed = [
      ...CONFIG_ERROR_CODES,
      ...CONFIG_WARNING_CODES,
      ...IDENTITY_ERROR_CODES,
      ...GRAPH_ERROR_CODES,
      ...DBUS_ADAPTER_CODES,
      ...OSTREE_CLIENT_CODES,
      ...FLEETLOCK_ERROR_CODES,
      ...OPERATOR_ERROR_CODES,
      ...TLS_ERROR_CODES,
      ...HEALTH_ERROR_CODES,
    ];
    expect(listed.filter((c) => !documented.has(c))).toEqual([]);
  });

  it('documents every code literal passed to an AltError constructor in src/', () => {
    const thrown = new Set([...src.matchAll(/(?:super|new AltError)\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!));
    expect(thrown.size).toBeGreaterThan(5);
    expect([...thrown].filter((c) => !documented.has(c))).toEqual([]);
  });

  it('has no row for a code that no longer exists in src/', () => {
    expect([...documented].filter((c) => !src.includes(`'${c}'`))).toEqual([]);
  });
});
