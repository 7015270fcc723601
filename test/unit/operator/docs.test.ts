// docs/usage/metrics.md and docs/org.altlinux.Updated1.xml stay in sync with the code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAgentMetrics } from '../../../src/agent/operator/metrics.js';
import { toProperties } from '../../../src/agent/operator/dbus-service.js';

const read = (p: string): string => readFileSync(new URL(`../../../${p}`, import.meta.url), 'utf8');

describe('docs/usage/metrics.md', () => {
  it('has one table row per exported metric, with its type', () => {
    const doc = read('docs/usage/metrics.md');
    const rows = [...doc.matchAll(/^\| `([a-z_:]+)` \| (counter|gauge)/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    const code = [...createAgentMetrics({ processStartMs: 0 }).render().matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    expect(rows).toEqual(code);
  });
});

describe('docs/org.altlinux.Updated1.xml', () => {
  it('declares every property the service encodes, and a comment for each member', () => {
    const xml = read('docs/org.altlinux.Updated1.xml');
    const props = [...xml.matchAll(/<property name="(\w+)"/g)].map((m) => m[1]).sort();
    expect(props).toEqual(
      Object.keys(
        toProperties({ state: '', bootedVersion: null, bootedChecksum: null, targetVersion: null, stagedVersion: null, lastCheckTimeMs: null, strategy: 'immediate', statusText: '', healthVerdict: null, healthFailedChecks: [] }),
      ).sort(),
    );
    const members = [...xml.matchAll(/-->\s*\n\s*<(property|method) name="(\w+)"/g)].map((m) => m[2]);
    expect(members).toHaveLength(12);
  });
});

describe('OPERATOR_ERROR_CODES', () => {
  it('lists every code thrown in src/agent/operator', async () => {
    const { OPERATOR_ERROR_CODES } = await import('../../../src/agent/operator/errors.js');
    const src = read('src/agent/operator/errors.ts');
    const thrown = [...src.matchAll(/super\('(OPERATOR_[A-Z_]+)'/g)].map((m) => m[1]).sort();
    expect([...OPERATOR_ERROR_CODES].sort()).toEqual(thrown);
  });
});
