// Strict, total decoding of a Cincinnati graph document. Structure is checked here for every node and
// edge; release semantics (non-empty version and payload, scheme, age_index) are checked by select.ts
// on the nodes a decision uses, exactly where Zincati checks them, so a graph with an unrelated odd
// node still works.
import { GraphError, decodeError, describeValue } from './errors.js';

/** One release node as served: metadata values are always strings. */
export interface GraphNode {
  /** Human version, unique within the graph. */
  readonly version: string;
  /** What gets deployed: the ostree commit checksum for scheme `checksum`. */
  readonly payload: string;
  /** Free-form string metadata (scheme, age_index, dead-end, rollout keys...). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** An allowed transition `[from, to]`, as indices into `Graph.nodes`. */
export type GraphEdge = readonly [number, number];

/** A decoded update graph; every edge index is in range. */
export interface Graph {
  /** Release nodes, in server order. */
  readonly nodes: readonly GraphNode[];
  /** Allowed transitions. */
  readonly edges: readonly GraphEdge[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseMetadata(m: unknown, at: string): Readonly<Record<string, string>> {
  if (!isRecord(m)) throw decodeError(`${at}.metadata`, `expected an object of strings, got ${describeValue(m)}`);
  for (const k in m) {
    if (!Object.hasOwn(m, k)) continue;
    const v = m[k];
    if (typeof v !== 'string') throw decodeError(`${at}.metadata.${k}`, `expected a string, got ${describeValue(v)}`);
  }
  return m as Record<string, string>;
}

function parseNode(n: unknown, i: number): GraphNode {
  const at = `nodes[${i}]`;
  if (!isRecord(n)) throw decodeError(at, `expected an object, got ${describeValue(n)}`);
  const { version, payload, metadata } = n;
  // Only the types are structure: an empty version or payload is a release error that select.ts
  // reports for the nodes a decision uses (Zincati's `Release::from_cincinnati`), so such a node
  // that nobody updates to does not break the graph.
  if (typeof version !== 'string') throw decodeError(`${at}.version`, `expected a string, got ${describeValue(version)}`);
  if (typeof payload !== 'string') throw decodeError(`${at}.payload`, `expected a string, got ${describeValue(payload)}`);
  return { version, payload, metadata: parseMetadata(metadata, at) };
}

/**
 * Decodes a parsed JSON value into a `Graph`. Throws only `GraphError`: `GRAPH_DECODE`
 * (`client_failed_json_decoding`) for a wrong shape (including a negative or fractional edge index),
 * `GRAPH_NODE_LOOKUP` (`client_failed_node_lookup`) for an edge index past the end of `nodes`. Unknown top-level and node keys are ignored, as in Zincati.
 */
export function parseGraph(json: unknown): Graph {
  if (!isRecord(json)) throw decodeError('$', `expected a graph object, got ${describeValue(json)}`);
  const { nodes: rawNodes, edges: rawEdges } = json;
  if (!Array.isArray(rawNodes)) throw decodeError('nodes', `expected an array, got ${describeValue(rawNodes)}`);
  if (!Array.isArray(rawEdges)) throw decodeError('edges', `expected an array, got ${describeValue(rawEdges)}`);
  const count = rawNodes.length;
  const nodes = new Array<GraphNode>(count);
  for (let i = 0; i < count; i++) nodes[i] = parseNode(rawNodes[i], i);
  // Hot loop (200k edges in the benchmark): no allocation, the validated arrays are reused as-is.
  for (let i = 0, n = rawEdges.length; i < n; i++) {
    const e: unknown = rawEdges[i];
    if (!Array.isArray(e) || e.length !== 2) {
      throw decodeError(`edges[${i}]`, `expected a [from, to] pair, got ${describeValue(e)}`);
    }
    const from: unknown = e[0];
    const to: unknown = e[1];
    // Zincati decodes an edge as two u64: a negative or fractional index is a decoding error.
    if (!Number.isInteger(from) || (from as number) < 0) throw decodeError(`edges[${i}][0]`, `expected an unsigned integer, got ${describeValue(from)}`);
    if (!Number.isInteger(to) || (to as number) < 0) throw decodeError(`edges[${i}][1]`, `expected an unsigned integer, got ${describeValue(to)}`);
    // Stricter than Zincati, which looks up only the booted node's targets: any edge outside `nodes`
    // means a broken server, and is reported whichever node it leaves (docs/usage/zincati-differences.md).
    if ((from as number) >= count) {
      throw new GraphError('GRAPH_NODE_LOOKUP', `node index ${String(from)} out of range (${count} nodes)`, { field: `edges[${i}][0]` });
    }
    if ((to as number) >= count) {
      throw new GraphError('GRAPH_NODE_LOOKUP', `node index ${String(to)} out of range (${count} nodes)`, { field: `edges[${i}][1]` });
    }
  }
  return { nodes, edges: rawEdges as GraphEdge[] };
}

/** Decodes graph bytes or text: a JSON syntax error is `GRAPH_DECODE` too. */
export function parseGraphText(text: string | Uint8Array): Graph {
  let json: unknown;
  try {
    json = JSON.parse(typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8'));
  } catch (err: unknown) {
    throw new GraphError('GRAPH_DECODE', `graph is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseGraph(json);
}
