import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseGraph, parseGraphText, type Graph } from '../../../src/graph/parse.js';
import { selectUpdate, type UpdateDecision } from '../../../src/graph/select.js';
import { GraphError } from '../../../src/graph/errors.js';

function errorOf(fn: () => unknown): GraphError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected a GraphError');
}

const F = 'org.fedoraproject.coreos.';
const good = {
  nodes: [
    { version: 'a', payload: 'pa', metadata: { [`${F}scheme`]: 'checksum', [`${F}releases.age_index`]: '0' } },
    { version: 'b', payload: 'pb', metadata: { [`${F}scheme`]: 'checksum', [`${F}releases.age_index`]: '1' } },
  ],
  edges: [[0, 1]],
};

describe('graph/parse', () => {
  it.each([
    ['not an object', [], '$', 'client_failed_json_decoding'],
    ['nodes missing', { edges: [] }, 'nodes', 'client_failed_json_decoding'],
    ['edges not an array', { nodes: [], edges: {} }, 'edges', 'client_failed_json_decoding'],
    ['node version a number', { nodes: [{ version: 1, payload: 'p', metadata: {} }], edges: [] }, 'nodes[0].version', 'client_failed_json_decoding'],
    ['metadata value not a string', { nodes: [{ version: 'v', payload: 'p', metadata: { [`${F}releases.age_index`]: 3 } }], edges: [] }, `nodes[0].metadata.${F}releases.age_index`, 'client_failed_json_decoding'],
    ['edge of three', { nodes: good.nodes, edges: [[0, 1, 2]] }, 'edges[0]', 'client_failed_json_decoding'],
    ['edge index fractional', { nodes: good.nodes, edges: [[0, 0.5]] }, 'edges[0][1]', 'client_failed_json_decoding'],
    ['edge index out of range', { nodes: good.nodes, edges: [[0, 2]] }, 'edges[0][1]', 'client_failed_node_lookup'],
    // Zincati decodes edges as pairs of u64: a negative index does not decode at all.
    ['edge index negative', { nodes: good.nodes, edges: [[-1, 0]] }, 'edges[0][0]', 'client_failed_json_decoding'],
  ])('rejects %s with a typed error naming the field', (_name, doc, field, kind) => {
    const err = errorOf(() => parseGraph(doc));
    expect(err.field).toBe(field);
    expect(err.kind).toBe(kind);
    expect(err.message.startsWith(`${field}: `)).toBe(true);
  });

  it('decodes empty version and payload strings (Zincati checks them only on nodes it uses)', () => {
    const g = parseGraph({ nodes: [{ version: '', payload: '', metadata: {} }], edges: [] });
    expect(g.nodes[0]).toEqual({ version: '', payload: '', metadata: {} });
  });

  it('ignores unknown top-level and node keys', () => {
    const g = parseGraph({ ...good, conditionalEdges: [], nodes: good.nodes.map((n) => ({ ...n, extra: 1 })) });
    expect(g.nodes.map((n) => n.version)).toEqual(['a', 'b']);
  });

  it('turns invalid JSON text (e.g. a debug line before the JSON) into a decoding error', () => {
    expect(errorOf(() => parseGraphText(`REPO=/x\n${JSON.stringify(good)}`)).kind).toBe('client_failed_json_decoding');
  });
});

// Property tests: any input yields a Graph + decision or a GraphError, never another exception.
const metaKey = fc.constantFrom(`${F}scheme`, `${F}releases.age_index`, `${F}updates.deadend`, 'org.altlinux.releases.age_index', 'org.altlinux.scheme', 'x');
const metaVal = fc.oneof(fc.constantFrom('checksum', 'oci', 'true', '0', '1', '17', '-1', '1e3', '99999999999999999999', ''), fc.string(), fc.integer() as fc.Arbitrary<unknown>);
const nodeArb = fc.record({
  version: fc.oneof(fc.string(), fc.constant('v') as fc.Arbitrary<unknown>, fc.integer() as fc.Arbitrary<unknown>),
  payload: fc.constantFrom('p0', 'p1', 'p2', 'p3', '', 'x'),
  metadata: fc.oneof(fc.dictionary(metaKey, metaVal), fc.constant(null) as fc.Arbitrary<unknown>),
});
const graphArb = fc.record({
  nodes: fc.array(nodeArb, { maxLength: 8 }),
  edges: fc.array(fc.oneof(fc.tuple(fc.integer({ min: -1, max: 9 }), fc.integer({ min: -1, max: 9 })), fc.anything() as fc.Arbitrary<unknown>), { maxLength: 12 }),
});

function decideOrError(json: unknown, booted: string, deny: string[], allowDowngrade: boolean): UpdateDecision | GraphError {
  try {
    const g: Graph = parseGraph(json);
    return selectUpdate(g, { bootedPayload: booted, denylist: deny, allowDowngrade });
  } catch (err: unknown) {
    if (err instanceof GraphError) return err;
    throw err;
  }
}

describe('graph/parse + select properties', () => {
  it('random graphs give a typed error or a consistent decision', () => {
    fc.assert(
      fc.property(graphArb, fc.constantFrom('p0', 'p1', 'p2', 'x'), fc.subarray(['p0', 'p1', 'p2', 'p3']), fc.boolean(), (json, booted, deny, allow) => {
        const r = decideOrError(json, booted, deny, allow);
        if (r instanceof GraphError) return;
        expect(r.reason === 'update').toBe(r.target !== null);
        if (r.reason === 'booted_not_in_graph') expect(r.booted).toBeNull();
        else expect(r.booted?.payload).toBe(booted);
        if (r.target) expect(deny).not.toContain(r.target.payload);
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary JSON values never throw anything but GraphError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        decideOrError(v, 'p0', [], false);
      }),
      { numRuns: 300 },
    );
  });

  it('mutating one value of a valid graph gives a typed error or a decision', () => {
    const paths: ((d: typeof good, v: unknown) => void)[] = [
      (d, v) => ((d.nodes[0] as Record<string, unknown>).version = v),
      (d, v) => ((d.nodes[1] as Record<string, unknown>).payload = v),
      (d, v) => ((d.nodes[1]!.metadata as Record<string, unknown>)[`${F}releases.age_index`] = v),
      (d, v) => ((d.nodes[0]!.metadata as Record<string, unknown>)[`${F}scheme`] = v),
      (d, v) => ((d.edges[0] as unknown[])[1] = v),
      (d, v) => ((d as Record<string, unknown>).edges = v),
      (d, v) => ((d.nodes as unknown[])[0] = v),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: paths.length - 1 }), fc.anything(), (i, v) => {
        const doc = structuredClone(good);
        paths[i]!(doc, v);
        const r = decideOrError(doc, 'pa', [], false);
        if (!(r instanceof GraphError)) expect(['update', 'no_update', 'booted_not_in_graph', 'downgrade_rejected']).toContain(r.reason);
      }),
      { numRuns: 500 },
    );
  });
});
