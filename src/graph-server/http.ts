// HTTP surface of alt-graphd: GET /v1/graph (Cincinnati), /metrics (Prometheus text), /healthz.
// Errors are `{kind, value}` JSON with string kinds (unlike ALT's 2021 server's numeric kinds).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRequestTarget } from '../common/request-target.js';
import type { GraphService } from './service.js';
import { clientWariness } from './throttle.js';

/** Request counters kept by the handler. */
export interface HttpStats {
  /** `/v1/graph` responses by status code. */
  readonly graphRequests: Map<number, number>;
}

function send(res: ServerResponse, status: number, body: string, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, kind: string, value: string): void {
  send(res, status, JSON.stringify({ kind, value }), 'application/json');
}

const WARINESS = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

function metricsText(service: GraphService, stats: HttpStats): string {
  const s = service.stats;
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const lines = [
    '# HELP altgraphd_v1_graph_requests_total Responses to /v1/graph by HTTP status code.',
    '# TYPE altgraphd_v1_graph_requests_total counter',
  ];
  for (const [code, n] of [...stats.graphRequests].sort((a, b) => a[0] - b[0])) lines.push(`altgraphd_v1_graph_requests_total{code="${code}"} ${n}`);
  lines.push(
    '# HELP altgraphd_graph_nodes Nodes in the served graph.',
    '# TYPE altgraphd_graph_nodes gauge',
    ...service.graphs().map((g) => `altgraphd_graph_nodes{basearch="${esc(g.basearch)}",stream="${esc(g.stream)}",scheme="${g.scheme ?? 'checksum'}"} ${g.nodes.length}`),
    '# HELP altgraphd_graph_edges Edges in the served graph before rollout throttling.',
    '# TYPE altgraphd_graph_edges gauge',
    ...service.graphs().map((g) => `altgraphd_graph_edges{basearch="${esc(g.basearch)}",stream="${esc(g.stream)}",scheme="${g.scheme ?? 'checksum'}"} ${g.edges.length}`),
    '# HELP altgraphd_graph_rebuilds_total Graph rebuilds after a repository or policy change.',
    '# TYPE altgraphd_graph_rebuilds_total counter',
    `altgraphd_graph_rebuilds_total ${s.rebuilds}`,
    '# HELP altgraphd_graph_refresh_failures_total Failed refreshes (the last good graph stays served).',
    '# TYPE altgraphd_graph_refresh_failures_total counter',
    `altgraphd_graph_refresh_failures_total ${s.refreshFailures}`,
    '# HELP altgraphd_graph_last_success_timestamp_seconds Unix time of the last successful build.',
    '# TYPE altgraphd_graph_last_success_timestamp_seconds gauge',
    `altgraphd_graph_last_success_timestamp_seconds ${s.lastSuccessMs === null ? 0 : s.lastSuccessMs / 1000}`,
    // Builds happen only on a change, so the build time ages on a quiet repo: alerts need this one.
    '# HELP altgraphd_graph_last_refresh_success_timestamp_seconds Unix time of the last refresh that succeeded, with or without a rebuild.',
    '# TYPE altgraphd_graph_last_refresh_success_timestamp_seconds gauge',
    `altgraphd_graph_last_refresh_success_timestamp_seconds ${s.lastRefreshOkMs === null ? 0 : s.lastRefreshOkMs / 1000}`,
    '# HELP altgraphd_unverified_commits Commits left out of the graphs because no trusted signature verifies (verify_keyring_dir).',
    '# TYPE altgraphd_unverified_commits gauge',
    `altgraphd_unverified_commits ${s.unverifiedCommits}`,
  );
  return `${lines.join('\n')}\n`;
}

function serveGraph(service: GraphService, req: IncomingMessage, res: ServerResponse, url: URL): number {
  const q = url.searchParams;
  const basearch = q.get('basearch') ?? '';
  const stream = q.get('stream') ?? '';
  if (basearch === '') return (sendError(res, 400, 'missing_basearch', 'mandatory client parameter "basearch" missing'), 400);
  if (stream === '') return (sendError(res, 400, 'missing_stream', 'mandatory client parameter "stream" missing'), 400);
  // Fedora serves a separate graph of container images for `oci=true`: here, the streams read from
  // a registry. A stream without one answers as before (its releases are ostree commits only).
  const oci = q.get('oci') === 'true';
  const rawW = q.get('rollout_wariness');
  let wariness: number | null = null;
  if (rawW !== null && rawW !== '') {
    if (!WARINESS.test(rawW)) return (sendError(res, 400, 'invalid_rollout_wariness', `"rollout_wariness" is not a number: ${JSON.stringify(rawW.slice(0, 32))}`), 400);
    wariness = Number(rawW);
  }
  const { ready, graph } = service.lookup(basearch, stream, oci);
  if (!ready) return (sendError(res, 503, 'graph_unavailable', 'no graph has been built yet'), 503);
  if (oci && !graph) return (sendError(res, 400, 'unsupported_oci', `no OCI (container image) graph for basearch "${basearch}" and stream "${stream}"`), 400);
  if (!graph) return (sendError(res, 404, 'unknown_stream', `no graph for basearch "${basearch}" and stream "${stream}"`), 404);
  const { body, etag } = service.body(graph, clientWariness(wariness, q.get('node_uuid') ?? ''));
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    res.writeHead(304, { etag, 'cache-control': 'no-cache' }).end();
    return 304;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length, etag, 'cache-control': 'no-cache' });
  res.end(body);
  return 200;
}

/** Builds the request handler for `node:http` `createServer`. */
export function createGraphHandler(service: GraphService): { handle: (req: IncomingMessage, res: ServerResponse) => void; stats: HttpStats } {
  const stats: HttpStats = { graphRequests: new Map() };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      const url = parseRequestTarget(req.url);
      if (url === null) {
        sendError(res, 400, 'invalid_request_target', `request target ${JSON.stringify((req.url ?? '').slice(0, 64))} is not a valid URL`);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendError(res, 405, 'method_not_allowed', `method ${req.method ?? '?'} not allowed`);
        return;
      }
      switch (url.pathname) {
        case '/v1/graph': {
          const code = serveGraph(service, req, res, url);
          stats.graphRequests.set(code, (stats.graphRequests.get(code) ?? 0) + 1);
          return;
        }
        case '/metrics':
          send(res, 200, metricsText(service, stats), 'text/plain; version=0.0.4; charset=utf-8');
          return;
        case '/healthz': {
          const s = service.stats;
          const ok = s.lastSuccessMs !== null;
          send(res, ok ? 200 : 503, JSON.stringify({ status: ok ? 'ok' : 'no_graph', last_success_ms: s.lastSuccessMs, last_error: s.lastError }), 'application/json');
          return;
        }
        default:
          sendError(res, 404, 'not_found', `no such endpoint ${url.pathname}`);
      }
    } catch (err: unknown) {
      if (!res.headersSent) sendError(res, 500, 'internal_error', err instanceof Error ? err.message : String(err));
      else res.destroy();
    }
  };
  return { handle, stats };
}
