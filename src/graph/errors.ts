import { AltError } from '../common/errors.js';

/** Stable codes of graph errors, one row each in docs/usage/update-graph.md. */
export const GRAPH_ERROR_CODES = [
  'GRAPH_CLIENT_BUILD',
  'GRAPH_DECODE',
  'GRAPH_NODE_LOOKUP',
  'GRAPH_NODE_PARSE',
  'GRAPH_REQUEST',
  'GRAPH_TOO_LARGE',
  'GRAPH_HTTP',
  'GRAPH_SERVER',
  'GRAPH_READ',
] as const;

/** A stable graph error code. */
export type GraphErrorCode = (typeof GRAPH_ERROR_CODES)[number];

// Zincati's error kinds (`zincati_cincinnati_update_checks_errors_total{kind}`) plus two of ours:
// `client_response_too_large` (the size cap) and `client_failed_reading_graph` (a local graph file).
const KIND_OF: Record<Exclude<GraphErrorCode, 'GRAPH_HTTP' | 'GRAPH_SERVER'>, string> = {
  GRAPH_CLIENT_BUILD: 'client_failed_build',
  GRAPH_DECODE: 'client_failed_json_decoding',
  GRAPH_NODE_LOOKUP: 'client_failed_node_lookup',
  GRAPH_NODE_PARSE: 'client_failed_node_parsing',
  GRAPH_REQUEST: 'client_failed_request',
  GRAPH_TOO_LARGE: 'client_response_too_large',
  GRAPH_READ: 'client_failed_reading_graph',
};

/**
 * A failed update check: bad URL, transport failure, HTTP error, or a graph that does not decode.
 * `kind` follows Zincati's error kinds; `field` names the offending JSON path when there is one
 * (e.g. `nodes[3].metadata.org.fedoraproject.coreos.releases.age_index`). Fails towards "no update".
 */
export class GraphError extends AltError {
  /** JSON path of the offending value, or null. */
  readonly field: string | null;
  /** HTTP status for `GRAPH_HTTP`/`GRAPH_SERVER`, else null. */
  readonly status: number | null;

  constructor(
    code: GraphErrorCode,
    message: string,
    opts: { kind?: string; field?: string; status?: number; cause?: unknown } = {},
  ) {
    const kind = opts.kind ?? (code === 'GRAPH_HTTP' || code === 'GRAPH_SERVER' ? `generic_http_${opts.status ?? 0}` : KIND_OF[code]);
    super(code, opts.field ? `${opts.field}: ${message}` : message, opts.cause === undefined ? { kind } : { kind, cause: opts.cause });
    this.field = opts.field ?? null;
    this.status = opts.status ?? null;
  }
}

/** Shorthand for a structural decode error at a JSON path. */
export function decodeError(field: string, message: string): GraphError {
  return new GraphError('GRAPH_DECODE', message, { field });
}

/** Describes a JSON value's type for messages (`got string "abc"`), truncated to stay one line. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `number ${String(v)}`;
  return typeof v;
}
