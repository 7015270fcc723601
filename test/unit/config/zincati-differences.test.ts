// docs/usage/zincati-differences.md is the one list of deliberate differences from Zincati
// (issue 11): it must stay linked from the configuration and graph docs, keep the differences the
// issue names, and name every key for which an empty string means "unset" in the code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EMPTY_MEANS_UNSET } from '../../../src/config/inputs.js';

const read = (name: string): string => readFileSync(new URL(`../../../docs/usage/${name}`, import.meta.url), 'utf8');
const diff = read('zincati-differences.md');
const rows = diff.split('\n').filter((l) => /^\| \d+ \|/.test(l));

describe('docs/usage/zincati-differences.md', () => {
  it.each(['configuration.md', 'update-graph.md'])('is linked from %s', (name) => {
    expect(read(name)).toContain('](zincati-differences.md)');
  });

  it('numbers its rows 1..n without gaps', () => {
    expect(rows.map((r) => Number(/^\| (\d+) \|/.exec(r)?.[1]))).toEqual(rows.map((_, i) => i + 1));
  });

  it.each([
    ['the followed symlink', /symlink to a regular file is followed/],
    ['tuesday', /`tuesday`/],
    ['window validation', /validated whatever the strategy/],
    ['the edge range', /edge index past the end of `nodes`/],
  ])('has a row for %s', (_name, re) => {
    expect(rows.filter((r) => re.test(r))).toHaveLength(1);
  });

  it('names every key for which an empty string means unset', () => {
    for (const key of EMPTY_MEANS_UNSET) expect(diff).toContain(`\`${key} = ""\``);
  });
});
