import { describe, expect, it } from 'vitest';
import { buildGraphs } from '../../../src/graph-server/build.js';
import { parseStreamPolicy, type StreamPolicy } from '../../../src/graph-server/policy.js';
import { clientWariness, hiddenRollouts, throttleValue } from '../../../src/graph-server/throttle.js';
import { siphash } from '../../../src/graph-server/siphash.js';
import { parseOstreeLog, splitReleaseRef, type RefHistory } from '../../../src/graph-server/repo.js';
import { GraphServerError } from '../../../src/graph-server/errors.js';

const c = (i: number): string => i.toString(16).padStart(64, '0');
function history(versions: string[], ref = 'altcos/x86_64/sisyphus'): RefHistory {
  const parts = splitReleaseRef(ref, 'altcos')!;
  return { ref, ...parts, commits: versions.map((v, i) => ({ checksum: c(i + (ref.length % 7) * 100), version: v })) };
}
function policy(releases: unknown[]): Map<string, StreamPolicy> {
  return new Map([['sisyphus', parseStreamPolicy({ stream: 'sisyphus', releases }, 'updates/sisyphus.json', 'sisyphus')]]);
}
const edgesOf = (h: RefHistory, p: Map<string, StreamPolicy>, implicitRollout = false): number[][] =>
  buildGraphs([h], p, { implicitRollout }).graphs.get('x86_64/sisyphus')!.edges.map((e) => [...e]);

describe('graph-server/build (Fedora graph builder rules)', () => {
  it('gives a rollout edges from every release since the previous barrier; others get none', () => {
    const h = history(['v0', 'v1', 'v2', 'v3', 'v4']);
    const p = policy([
      { version: 'v1', metadata: { barrier: { reason: 'https://b/1' } } },
      { version: 'v3', metadata: { rollout: { start_percentage: 1.0 } } },
    ]);
    expect(edgesOf(h, p)).toEqual([[0, 1], [1, 3], [2, 3]]);
  });

  it('drops outgoing edges of dead-end releases', () => {
    const h = history(['v0', 'v1', 'v2']);
    const p = policy([
      { version: 'v0', metadata: { deadend: { reason: '' } } },
      { version: 'v2', metadata: { rollout: {} } },
    ]);
    expect(edgesOf(h, p)).toEqual([[1, 2]]);
    const g = buildGraphs([h], p).graphs.get('x86_64/sisyphus')!;
    expect(g.nodes[0]!.metadata['org.fedoraproject.coreos.updates.deadend_reason']).toBe('generic');
    expect(g.nodes[2]!.metadata).toMatchObject({ 'org.fedoraproject.coreos.updates.rollout': 'true', 'org.fedoraproject.coreos.updates.start_value': '0' });
  });

  it('links every commit when unlisted commits count as completed rollouts', () => {
    expect(edgesOf(history(['v0', 'v1', 'v2']), new Map(), true)).toEqual([[0, 1], [0, 2], [1, 2]]);
    expect(edgesOf(history(['v0', 'v1', 'v2']), new Map(), false)).toEqual([]);
  });

  it('keeps refs of one stream as separate chains and skips commits without version', () => {
    const a = history(['a0', 'a1']);
    const b = history(['b0', 'b1'], 'altcos/x86_64/sisyphus/apache2');
    const noVersion: RefHistory = { ...a, commits: [...a.commits, { checksum: c(999), version: null }] };
    const r = buildGraphs([b, noVersion], new Map(), { implicitRollout: true });
    const g = r.graphs.get('x86_64/sisyphus')!;
    expect(g.nodes.map((n) => n.version)).toEqual(['a0', 'a1', 'b0', 'b1']);
    expect(g.edges.map((e) => [...e])).toEqual([[0, 1], [2, 3]]);
    expect(r.warnings).toHaveLength(1);
  });
});

describe('graph-server/policy', () => {
  it.each([
    [{ releases: {} }, 'releases: expected an array'],
    [{ releases: [{ version: 1 }] }, 'releases[0].version'],
    [{ releases: [{ version: 'a', metadata: { rollout: { start_percentage: 2 } } }] }, 'releases[0].metadata.rollout.start_percentage'],
    [{ releases: [{ version: 'a' }, { version: 'a' }] }, 'duplicate'],
    [{ stream: 'p10', releases: [] }, 'stream: expected "sisyphus"'],
  ])('rejects %j naming the field', (doc, fragment) => {
    expect(() => parseStreamPolicy(doc, 'u/sisyphus.json', 'sisyphus')).toThrow(GraphServerError);
    expect(() => parseStreamPolicy(doc, 'u/sisyphus.json', 'sisyphus')).toThrow(fragment);
  });
});

describe('graph-server/throttle (Fedora policy engine)', () => {
  const r = { startEpoch: 1000, startPercentage: 0.2, durationMinutes: 10 };
  it.each([
    [999, 0],
    [1000, 0.2],
    [1300, 0.6],
    [1600, 1],
    [1601, 1],
  ])('at %i s the throttle value is %f', (now, t) => {
    expect(throttleValue(r, now)).toBeCloseTo(t, 9);
  });

  it('never progresses a rollout without a duration', () => {
    expect(throttleValue({ startEpoch: 0, startPercentage: 0.3, durationMinutes: null }, 1e9)).toBe(0.3);
  });

  it('hides a rollout from clients more wary than its throttle value; wariness 0 sees it before start', () => {
    const rollouts = [{ index: 4, rollout: r }];
    expect(hiddenRollouts(rollouts, 0.5, 1300)).toEqual([]);
    expect(hiddenRollouts(rollouts, 0.7, 1300)).toEqual([4]);
    expect(hiddenRollouts(rollouts, 0, 0)).toEqual([]);
  });

  it('clamps client wariness and derives a stable value in (0, 1] from node_uuid', () => {
    expect(clientWariness(1.7, 'x')).toBe(1);
    expect(clientWariness(-1, 'x')).toBe(0);
    const w = clientWariness(null, '074c268827d74fb59ed758e8940cd667');
    expect(w).toBeGreaterThanOrEqual(0.000001);
    expect(w).toBeLessThanOrEqual(1);
    expect(clientWariness(null, '074c268827d74fb59ed758e8940cd667')).toBe(w);
    expect(clientWariness(null, 'ffffffffffffffffffffffffffffffff')).not.toBe(w);
  });

  it('implements SipHash as the reference vectors say (SipHash-2-4, key 00..0f)', () => {
    const key = Buffer.from([...Array(16).keys()]);
    const k0 = key.readBigUInt64LE(0);
    const k1 = key.readBigUInt64LE(8);
    expect(siphash(new Uint8Array([...Array(15).keys()]), k0, k1, 2, 4).toString(16)).toBe('a129ca6149be45e5');
    expect(siphash(new Uint8Array(0), k0, k1, 2, 4).toString(16)).toBe('726fdb47dd0e0e31');
  });
});

describe('graph-server/repo parsing', () => {
  it('parses ostree log output oldest first, ignoring subject lines that look like headers', () => {
    const text = [
      `commit ${c(2)}`, `Parent:  ${c(1)}`, 'Date:  2026-11-27 09:38:40 +0000', 'Version: v2', '(no subject)', '',
      `commit ${c(1)}`, 'Date:  2026-11-27 09:38:40 +0000', '', '    Version: not-a-header', '',
    ].join('\n');
    expect(parseOstreeLog(text)).toEqual([{ checksum: c(1), version: null }, { checksum: c(2), version: 'v2' }]);
  });
  it.each([
    ['altcos/x86_64/sisyphus', { basearch: 'x86_64', stream: 'sisyphus', name: null }],
    ['altcos/x86_64/p10/base', { basearch: 'x86_64', stream: 'p10', name: 'base' }],
    ['other/x86_64/p10', null],
    ['altcos/x86_64', null],
    ['altcos/x86_64/p10/a/b', null],
  ])('splits %s', (ref, want) => {
    expect(splitReleaseRef(ref, 'altcos')).toEqual(want);
  });
});
