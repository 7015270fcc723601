import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_ERROR_CODES, CONFIG_WARNING_CODES } from '../../../src/config/errors.js';
import { CONFIG_DIRS } from '../../../src/config/fragments.js';
import { SCALAR_KEYS, WINDOW_FIELDS, WINDOW_KEY } from '../../../src/config/inputs.js';
import { settingsToJson } from '../../../src/config/json.js';
import { DEFAULT_SETTINGS } from '../../../src/config/settings.js';
import { IDENTITY_ERROR_CODES } from '../../../src/identity/errors.js';

/** Rows of the first markdown table whose header starts with `firstHeader`, as trimmed cells. */
function table(md: string, firstHeader: string): string[][] {
  const lines = md.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  if (start < 0) throw new Error(`no table with header ${firstHeader}`);
  const rows: string[][] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(l.slice(1, -1).split(' | ').map((c) => c.trim()));
  }
  return rows;
}
const unquote = (cell: string): string => cell.replace(/^`|`$/g, '');

const doc = readFileSync(new URL('../../../docs/usage/configuration.md', import.meta.url), 'utf8');

describe('docs/usage/configuration.md stays in sync with the code', () => {
  it('lists the drop-in directories in the precedence order the code scans them', () => {
    const rows = table(doc, 'Precedence');
    expect(rows.map((r) => unquote(r[1] ?? ''))).toEqual([...CONFIG_DIRS]);
    expect(rows.map((r) => Number.parseInt(r[0] ?? '', 10))).toEqual([1, 2, 3]);
  });

  it('documents exactly the keys the code knows', () => {
    const keys = table(doc, 'Key').map((r) => unquote(r[0] ?? ''));
    expect(keys.sort()).toEqual([...SCALAR_KEYS, WINDOW_KEY, ...WINDOW_FIELDS.map((f) => `${WINDOW_KEY}.${f}`)].sort());
  });

  it('documents the defaults the code applies', () => {
    const defaults = settingsToJson(DEFAULT_SETTINGS, []) as unknown as Record<string, unknown>;
    const lookup = (key: string): unknown =>
      key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k === 'window' ? 'window' : k], defaults);
    for (const row of table(doc, 'Key')) {
      const key = unquote(row[0] ?? '');
      const cell = row[2] ?? '';
      if (key.startsWith(`${WINDOW_KEY}.`)) {
        expect(cell, key).toBe('(required)');
        continue;
      }
      const documented = cell === '`(unset)`' ? null : (JSON.parse(unquote(cell)) as unknown);
      expect(documented, key).toEqual(lookup(key));
    }
  });
});

describe('docs/reference/errors.md stays in sync with the code', () => {
  const errorsDoc = readFileSync(new URL('../../../docs/reference/errors.md', import.meta.url), 'utf8');
  const documented = table(errorsDoc, 'Code').map((r) => unquote(r[0] ?? ''));

  it('has one row per config and identity code, and no stale ones', () => {
    const ours = [...CONFIG_ERROR_CODES, ...CONFIG_WARNING_CODES, ...IDENTITY_ERROR_CODES].sort();
    expect(documented.filter((c) => c.startsWith('CONFIG_') || c.startsWith('IDENTITY_')).sort()).toEqual(ours);
  });
});
