import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GRAPH_ERROR_CODES } from '../../../src/graph/errors.js';

const doc = readFileSync(new URL('../../../docs/usage/update-graph.md', import.meta.url), 'utf8');

describe('docs/usage/update-graph.md', () => {
  it('has one error-table row per graph error code', () => {
    const rows = [...doc.matchAll(/^\| `(GRAPH_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.filter((c) => c !== 'GRAPH_DEADEND_MOTD').sort()).toEqual([...GRAPH_ERROR_CODES].sort());
  });
});
