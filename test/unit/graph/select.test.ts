import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGraph, type Graph } from '../../../src/graph/parse.js';
import { compareReleases, selectUpdate, shouldReplaceStaged } from '../../../src/graph/select.js';
import { GraphError } from '../../../src/graph/errors.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../fixtures/graph/${name}`, import.meta.url), 'utf8')) as unknown;
const docs = parseGraph(fixture('zincati-docs-response.json'));
const alt = parseGraph(fixture('altlinux-namespaced.json'));
const P = docs.nodes.map((n) => n.payload);

const F = 'org.fedoraproject.coreos.';
function graph(nodes: [string, number, Record<string, string>?][], edges: [number, number][]): Graph {
  return parseGraph({
    nodes: nodes.map(([v, age, extra]) => ({
      version: v,
      payload: `p-${v}`,
      metadata: { [`${F}scheme`]: 'checksum', [`${F}releases.age_index`]: String(age), ...extra },
    })),
    edges,
  });
}

describe('graph/select (Zincati find_update)', () => {
  it('updates the oldest docs-example node to the rollout target', () => {
    const d = selectUpdate(docs, { bootedPayload: P[0]! });
    expect(d.reason).toBe('update');
    expect(d.booted).toEqual({ version: '32.20200517.1.0', payload: P[0], ageIndex: 0 });
    expect(d.target).toEqual({ version: '32.20200601.1.1', payload: P[2], ageIndex: 2 });
    expect(d.deadend).toEqual({ isDeadend: false, reason: null });
  });

  it('reports no update for the newest node, which has no out-edges', () => {
    const d = selectUpdate(docs, { bootedPayload: P[2]! });
    expect(d).toMatchObject({ reason: 'no_update', target: null, booted: { ageIndex: 2 } });
  });

  it('reports a booted payload missing from the graph without evaluating dead-end', () => {
    const d = selectUpdate(docs, { bootedPayload: 'f'.repeat(64) });
    expect(d).toMatchObject({ reason: 'booted_not_in_graph', booted: null, target: null });
  });

  it('does not match a node whose scheme is not checksum', () => {
    const g = parseGraph({ nodes: [{ version: 'a', payload: 'x', metadata: { [`${F}scheme`]: 'oci', [`${F}releases.age_index`]: '0' } }], edges: [] });
    expect(selectUpdate(g, { bootedPayload: 'x' }).reason).toBe('booted_not_in_graph');
  });

  it('drops denylisted targets and picks the best remaining', () => {
    const g = graph([['a', 0], ['b', 1], ['c', 2]], [[0, 1], [0, 2]]);
    const d = selectUpdate(g, { bootedPayload: 'p-a', denylist: ['p-c'] });
    expect(d).toMatchObject({ reason: 'update', target: { version: 'b' }, ignoredTargets: 1 });
  });

  it('lists every allowed target from the booted node, so a withdrawn staged release can be told', () => {
    const g = graph([['a', 0], ['b', 1], ['c', 2], ['d', 3]], [[0, 1], [0, 2], [1, 3]]);
    expect(selectUpdate(g, { bootedPayload: 'p-a', denylist: ['p-c'] }).offered).toEqual(['p-b']);
    expect(selectUpdate(g, { bootedPayload: 'p-d' }).offered).toEqual([]);
    expect(selectUpdate(g, { bootedPayload: 'p-x' }).offered).toEqual([]);
  });

  it('reports all_denied when every target is denylisted', () => {
    const d = selectUpdate(docs, { bootedPayload: P[0]!, denylist: new Set([P[2]!]) });
    expect(d).toMatchObject({ reason: 'all_denied', target: null, ignoredTargets: 1 });
  });

  it.each([
    [false, 'downgrade_rejected', null],
    [true, 'update', 'a'],
  ])('with allow_downgrade=%s a downgrade edge yields %s', (allowDowngrade, reason, version) => {
    const g = graph([['a', 0], ['b', 1]], [[1, 0]]);
    const d = selectUpdate(g, { bootedPayload: 'p-b', allowDowngrade });
    expect(d.reason).toBe(reason);
    expect(d.target?.version ?? null).toBe(version);
    expect(d.candidate?.version).toBe('a');
  });

  it('breaks age_index ties by version, then payload', () => {
    const g = graph([['a', 0], ['x.2', 5], ['x.10', 5]], [[0, 1], [0, 2]]);
    expect(selectUpdate(g, { bootedPayload: 'p-a' }).target?.version).toBe('x.2');
    expect(compareReleases({ version: 'v', payload: 'b', ageIndex: 1 }, { version: 'v', payload: 'a', ageIndex: 1 })).toBe(1);
  });

  it('sets dead-end with its reason and clears it on a normal node', () => {
    const g = graph([['a', 0, { [`${F}updates.deadend`]: 'true', [`${F}updates.deadend_reason`]: 'https://bugs/1' }], ['b', 1, { [`${F}updates.deadend`]: 'false' }]], []);
    expect(selectUpdate(g, { bootedPayload: 'p-a' }).deadend).toEqual({ isDeadend: true, reason: 'https://bugs/1' });
    expect(selectUpdate(g, { bootedPayload: 'p-b' }).deadend).toEqual({ isDeadend: false, reason: null });
  });

  it('replaces an empty dead-end reason with "(unknown reason)"', () => {
    const g = graph([['a', 0, { [`${F}updates.deadend`]: 'true' }]], []);
    expect(selectUpdate(g, { bootedPayload: 'p-a' }).deadend.reason).toBe('(unknown reason)');
  });

  it('reads ALT-namespaced keys as equivalents of the Fedora keys', () => {
    const d = selectUpdate(alt, { bootedPayload: alt.nodes[0]!.payload });
    expect(d).toMatchObject({ reason: 'update', target: { version: 'sisyphus.20211108.1.10', ageIndex: 2 } });
    const dead = selectUpdate(alt, { bootedPayload: alt.nodes[1]!.payload });
    expect(dead.deadend).toEqual({ isDeadend: true, reason: 'https://bugzilla.altlinux.org/1' });
  });

  it('fails the whole check when a target lacks age_index, naming the field', () => {
    const g = parseGraph({
      nodes: [
        { version: 'a', payload: 'x', metadata: { [`${F}scheme`]: 'checksum', [`${F}releases.age_index`]: '0' } },
        { version: 'b', payload: 'y', metadata: { [`${F}scheme`]: 'checksum', [`${F}releases.age_index`]: 'one' } },
      ],
      edges: [[0, 1]],
    });
    const err = (() => { try { selectUpdate(g, { bootedPayload: 'x' }); } catch (e) { return e; } return null; })();
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ kind: 'client_failed_node_parsing', field: 'nodes[1].metadata.org.fedoraproject.coreos.releases.age_index' });
  });

  // Zincati's docs example (coreos/zincati docs/development/cincinnati/response.json, our fixture
  // zincati-docs-response.json) plus one malformed node 3 (empty version and payload, no scheme, no
  // age_index) with an edge out of it. Zincati parses only the booted node and its targets.
  const withBadNode = (extraEdges: [number, number][]): Graph => {
    const raw = fixture('zincati-docs-response.json') as { nodes: unknown[]; edges: [number, number][] };
    return parseGraph({ nodes: [...raw.nodes, { version: '', payload: '', metadata: {} }], edges: [...raw.edges, [3, 0], ...extraEdges] });
  };

  it('ignores a malformed node that nobody updates to, as Zincati', () => {
    const d = selectUpdate(withBadNode([]), { bootedPayload: P[0]! });
    expect(d).toMatchObject({ reason: 'update', target: { version: '32.20200601.1.1', payload: P[2] } });
  });

  it('fails with client_failed_node_parsing when the booted node updates to the malformed node', () => {
    const err = (() => { try { selectUpdate(withBadNode([[0, 3]]), { bootedPayload: P[0]! }); } catch (e) { return e; } return null; })();
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ code: 'GRAPH_NODE_PARSE', kind: 'client_failed_node_parsing', field: 'nodes[3].version' });
  });

  it('reads age_index as Rust parses a u64, so "+3" is 3 and "-1" or " 1" fail the check', () => {
    const g = (age: string): Graph => graph([['a', 0], ['b', 0, { [`${F}releases.age_index`]: age }]], [[0, 1]]);
    expect(selectUpdate(g('+3'), { bootedPayload: 'p-a' }).target).toMatchObject({ version: 'b', ageIndex: 3 });
    for (const bad of ['-1', ' 1', '1e3', '']) {
      expect(() => selectUpdate(g(bad), { bootedPayload: 'p-a' })).toThrow(expect.objectContaining({ kind: 'client_failed_node_parsing' }) as Error);
    }
  });

  it('prefers a newer release over an already staged one (coreos/zincati#928)', () => {
    const staged = { version: 'b', payload: 'pb', ageIndex: 1 };
    expect(shouldReplaceStaged(staged, { version: 'c', payload: 'pc', ageIndex: 2 })).toBe(true);
    expect(shouldReplaceStaged(staged, staged)).toBe(false);
    expect(shouldReplaceStaged(staged, { version: 'a', payload: 'pa', ageIndex: 0 })).toBe(false);
    expect(shouldReplaceStaged(staged, null)).toBe(false);
  });
});
