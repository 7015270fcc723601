import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_KINDS } from '../../../src/fleetlock/server/kinds.js';

describe('docs/usage/fleetlock-server.md', () => {
  it('documents exactly the error kinds and statuses the server answers with', () => {
    const doc = readFileSync('docs/usage/fleetlock-server.md', 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(ERROR_KINDS);
  });
});
