// Seeded generator of graph documents, as the text a server would send: random JSON, mutated valid
// graphs, wrong types, out-of-range and non-integer edges, huge numbers, unicode, deep nesting, and
// byte-level mutations of valid graph text. Used by the unit corpus and served to the real agent.
import { createPrng, type Prng } from '../../helpers/faults.js';
import { deepNestingText, mutateText, NASTY_NUMBERS, NASTY_STRINGS, randomJson, replaceAtRandomPath } from './gen-values.js';

const F = 'org.fedoraproject.coreos.';
const A = 'org.altlinux.';

/** One generated graph document. */
export interface GraphCase {
  /** Which family generated it (for failure messages). */
  readonly family: string;
  /** The document as sent over HTTP. */
  readonly text: string;
}

/** A structurally valid graph of `n` releases with sequential edges (payloads are fake checksums). */
export function validGraph(r: Prng, n = r.int(1, 5)): { nodes: unknown[]; edges: [number, number][] } {
  const nodes = Array.from({ length: n }, (_, i) => {
    const prefix = r.chance(0.8) ? F : A;
    const metadata: Record<string, string> = { [`${prefix}scheme`]: 'checksum', [`${prefix}releases.age_index`]: String(i) };
    if (r.chance(0.2)) metadata[`${prefix}updates.deadend`] = r.pick(['true', 'false', 'maybe']);
    if (r.chance(0.2)) metadata[`${prefix}updates.barrier`] = 'true';
    if (r.chance(0.2)) metadata[`${prefix}updates.rollout`] = 'true';
    return { version: `2026110${i}.0.0`, payload: i.toString(16).padStart(64, 'c'), metadata };
  });
  const edges: [number, number][] = [];
  for (let i = 0; i + 1 < n; i++) edges.push([i, i + 1]);
  return { nodes, edges };
}

type Family = (r: Prng) => string;

const families: Record<string, Family> = {
  random_json: (r) => JSON.stringify(randomJson(r, 4)),
  mutated_valid: (r) => JSON.stringify(replaceAtRandomPath(r, validGraph(r), () => randomJson(r, 2))),
  text_mutation: (r) => {
    let t = JSON.stringify(validGraph(r));
    for (let i = r.int(1, 3); i > 0; i--) t = mutateText(r, t);
    return t;
  },
  bad_edges: (r) => {
    const g = validGraph(r, r.int(0, 4));
    const bad = r.pick<unknown>([
      [r.pick(NASTY_NUMBERS), 0],
      [0, r.pick(NASTY_NUMBERS)],
      [g.nodes.length, 0],
      [-1, 0],
      [0],
      [0, 1, 2],
      ['0', '1'],
      [0.5, 1],
      { from: 0, to: 1 },
      null,
      [null, null],
    ]);
    return JSON.stringify({ ...g, edges: [...g.edges, bad] });
  },
  wrong_types: (r) => {
    const g = validGraph(r);
    const field = r.pick(['nodes', 'edges', 'version', 'payload', 'metadata', 'metavalue']);
    const wrong = r.pick<unknown>([null, 0, 1e308, true, 'x', [], {}, [[]], NASTY_STRINGS[0]]);
    const n = g.nodes[0] as Record<string, unknown>;
    if (field === 'nodes' || field === 'edges') return JSON.stringify({ ...g, [field]: wrong });
    if (field === 'metavalue') (n['metadata'] as Record<string, unknown>)[`${F}releases.age_index`] = wrong;
    else n[field] = wrong;
    return JSON.stringify(g);
  },
  huge_numbers: (r) => {
    const g = validGraph(r);
    const n = g.nodes[r.int(0, g.nodes.length - 1)] as { metadata: Record<string, string> };
    n.metadata[`${F}releases.age_index`] = r.pick(['99999999999999999999', '1e400', '-1', '0x1f', ' 1', '', '٣', '1'.repeat(400)]);
    // Raw number literals JSON.parse turns into Infinity or rounds: the edge check must still hold.
    return JSON.stringify(g).replace(/"edges":\[/, `"edges":[[${r.pick(['1e400', '-1e400', '9007199254740993', '1.0000000000000002'])},0],`);
  },
  unicode: (r) => {
    const g = validGraph(r);
    const n = g.nodes[r.int(0, g.nodes.length - 1)] as Record<string, unknown>;
    n[r.pick(['version', 'payload'])] = r.pick(NASTY_STRINGS);
    (n['metadata'] as Record<string, unknown>)[r.pick(NASTY_STRINGS)] = r.pick(NASTY_STRINGS);
    return JSON.stringify(g);
  },
  nesting: (r) => {
    const depth = r.pick([10, 1000, 5000]);
    return r.pick([
      deepNestingText(depth),
      `{"nodes":${deepNestingText(depth)},"edges":[]}`,
      `{"nodes":[],"edges":${deepNestingText(depth)}}`,
      `{"nodes":[{"version":"1","payload":"p","metadata":{"k":${deepNestingText(depth, '"v"')}}}],"edges":[]}`,
    ]);
  },
  not_json: (r) => r.pick(['', ' ', 'null', '<html>502 Bad Gateway</html>', '\ufeff{}', '{"nodes":[],"edges":[]}garbage', 'NaN', '\u0000', '{"nodes":[],"edges":[],}']),
  prototype: (r) =>
    r.pick([
      '{"__proto__":{"nodes":[],"edges":[]}}',
      '{"nodes":[{"version":"1","payload":"p","metadata":{"__proto__":"x","constructor":"y"}}],"edges":[]}',
      '{"nodes":[{"version":"1","payload":"p","metadata":{"__proto__":{"a":1}}}],"edges":[]}',
      '{"nodes":{"length":1,"0":{}},"edges":[]}',
      '{"constructor":{"prototype":{}},"nodes":[],"edges":[]}',
    ]),
};

/** Family names, in generation order. */
export const GRAPH_FAMILIES: readonly string[] = Object.keys(families);

/** Generates `count` graph cases from `seed`, cycling through the families. */
export function generateGraphCases(seed: number, count: number): GraphCase[] {
  const r = createPrng(seed);
  const out: GraphCase[] = [];
  for (let i = 0; i < count; i++) {
    const family = GRAPH_FAMILIES[i % GRAPH_FAMILIES.length]!;
    out.push({ family, text: families[family]!(r) });
  }
  return out;
}
