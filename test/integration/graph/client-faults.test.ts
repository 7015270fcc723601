// The Cincinnati client against real HTTP servers on 127.0.0.1 that misbehave on purpose.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { createGraphClient, graphUrl, type GraphQuery } from '../../../src/graph/client.js';
import { GraphError } from '../../../src/graph/errors.js';

const query: GraphQuery = {
  basearch: 'x86_64',
  stream: 'sisyphus',
  osVersion: 'sisyphus.20261101.0.0',
  osChecksum: 'a'.repeat(64),
  group: 'default',
  nodeUuid: '074c268827d74fb59ed758e8940cd667',
  platform: 'qemu',
  rolloutWariness: 0.5,
};
const GRAPH = JSON.stringify({ nodes: [], edges: [] });

const servers: Server[] = [];
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
}
const agents: Agent[] = [];
function agent(): Agent {
  const a = new Agent();
  agents.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.destroy()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});
afterAll(() => undefined);

async function failure(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (err: unknown) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected a GraphError');
}

describe('graph/client against real HTTP servers', () => {
  it('sends GET v1/graph with accept: application/json and Zincati query parameters', async () => {
    let seen: IncomingMessage | null = null;
    const base = await serve((req, res) => {
      seen = req;
      res.writeHead(200, { 'content-type': 'application/json' }).end(GRAPH);
    });
    const g = await createGraphClient({ baseUrl: `${base}prefix/`, dispatcher: agent() }).fetchGraph(query);
    expect(g.nodes).toEqual([]);
    const url = new URL(seen!.url!, base);
    expect(seen!.method).toBe('GET');
    expect(seen!.headers.accept).toBe('application/json');
    expect(url.pathname).toBe('/prefix/v1/graph');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      basearch: 'x86_64', stream: 'sisyphus', os_version: 'sisyphus.20261101.0.0', os_checksum: 'a'.repeat(64),
      group: 'default', node_uuid: '074c268827d74fb59ed758e8940cd667', platform: 'qemu', rollout_wariness: '0.500000',
    });
  });

  it.each([
    ['https://h', 'https://h/v1/graph'],
    ['https://h/prefix/', 'https://h/prefix/v1/graph'],
    ['https://h/prefix', 'https://h/v1/graph'],
  ])('joins base URL %s as Zincati does', (base, want) => {
    const u = graphUrl(base, { ...query, platform: null, rolloutWariness: null });
    expect(`${u.origin}${u.pathname}`).toBe(want);
    expect(u.searchParams.has('platform')).toBe(false);
    expect(u.searchParams.has('rollout_wariness')).toBe(false);
  });

  it('rejects a base URL that cannot be used with client_failed_build', () => {
    expect(() => createGraphClient({ baseUrl: 'not a url' })).toThrow(expect.objectContaining({ kind: 'client_failed_build' }) as Error);
  });

  it.each([
    ['a {kind, value} body', 503, JSON.stringify({ kind: 'graph_unavailable', value: 'warming up' }), 'graph_unavailable', 'warming up'],
    ['a numeric kind (ALT 2021 server)', 400, JSON.stringify({ kind: 3, value: 'unknown stream' }), 'generic_http_400', 'unknown stream'],
    ['a non-JSON body', 500, '<html>oops</html>', 'generic_http_500', 'code 500'],
    ['an empty body', 502, '', 'generic_http_502', 'code 502'],
  ])('maps a non-2xx response with %s to a typed error', async (_what, status, body, kind, text) => {
    const base = await serve((_req, res) => res.writeHead(status).end(body));
    const err = await failure(createGraphClient({ baseUrl: base, dispatcher: agent() }).fetchGraph(query));
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(status);
    expect(err.message).toContain(text);
  });

  it('follows a redirect to the graph', async () => {
    const target = await serve((_req, res) => res.writeHead(200).end(GRAPH));
    const base = await serve((req, res) => res.writeHead(302, { location: `${target}moved${req.url ?? ''}` }).end());
    expect((await createGraphClient({ baseUrl: base, dispatcher: agent() }).fetchGraph(query)).edges).toEqual([]);
  });

  it('turns a 2xx body that is not a graph into client_failed_json_decoding', async () => {
    const base = await serve((_req, res) => res.writeHead(200).end('REPO=/srv\n{"nodes":[],"edges":[]}'));
    expect((await failure(createGraphClient({ baseUrl: base, dispatcher: agent() }).fetchGraph(query))).kind).toBe('client_failed_json_decoding');
  });

  it('times out a server that never answers (client_failed_request)', async () => {
    const base = await serve(() => undefined);
    const err = await failure(createGraphClient({ baseUrl: base, dispatcher: agent(), totalTimeoutMs: 300 }).fetchGraph(query));
    expect(err.kind).toBe('client_failed_request');
    expect(err.message).toContain('timed out');
  });

  it('times out a body that trickles forever', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200);
      res.write('{"nodes":[');
    });
    const err = await failure(createGraphClient({ baseUrl: base, dispatcher: agent(), totalTimeoutMs: 300 }).fetchGraph(query));
    expect(err.kind).toBe('client_failed_request');
  });

  it.each([
    ['declared by content-length', true],
    ['streamed without a length', false],
  ])('refuses an oversized body %s', async (_what, withLength) => {
    const big = JSON.stringify({ nodes: [], edges: [], pad: 'x'.repeat(4096) });
    const base = await serve((_req, res) => {
      res.writeHead(200, withLength ? { 'content-length': Buffer.byteLength(big) } : {});
      res.end(big);
    });
    const err = await failure(createGraphClient({ baseUrl: base, dispatcher: agent(), maxBytes: 1024 }).fetchGraph(query));
    expect(err.kind).toBe('client_response_too_large');
  });

  it('reports a connection reset as client_failed_request', async () => {
    const base = await serve((req) => req.socket.destroy());
    expect((await failure(createGraphClient({ baseUrl: base, dispatcher: agent() }).fetchGraph(query))).kind).toBe('client_failed_request');
  });

  it('reports a refused connection as client_failed_request', async () => {
    const base = await serve(() => undefined);
    const s = servers.pop()!;
    await new Promise<void>((r) => s.close(() => r()));
    expect((await failure(createGraphClient({ baseUrl: base, dispatcher: agent() }).fetchGraph(query))).kind).toBe('client_failed_request');
  });

  it('goes through HTTP_PROXY from the environment and bypasses it for NO_PROXY hosts', async () => {
    const target = await serve((_req, res) => res.writeHead(200).end(GRAPH));
    const proxied: string[] = [];
    // A tiny forward proxy: CONNECT tunnels and absolute-form requests.
    const proxy = createServer((req, res) => {
      proxied.push(`GET ${req.url ?? ''}`);
      const u = new URL(req.url ?? '');
      const up = connect(Number(u.port), u.hostname, () => {
        up.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\nconnection: close\r\n\r\n`);
        up.pipe(res.socket!);
      });
    });
    proxy.on('connect', (req: IncomingMessage, sock, head: Buffer) => {
      proxied.push(`CONNECT ${req.url ?? ''}`);
      const [host, port] = (req.url ?? '').split(':');
      const up = connect(Number(port), host!, () => {
        sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(sock).pipe(up);
      });
      sock.on('error', () => up.destroy());
      up.on('error', () => sock.destroy());
    });
    servers.push(proxy);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

    const viaProxy = createGraphClient({ baseUrl: target, env: { HTTP_PROXY: proxyUrl } });
    try {
      expect((await viaProxy.fetchGraph(query)).nodes).toEqual([]);
    } finally {
      await viaProxy.close();
    }
    expect(proxied).toHaveLength(1);
    expect(proxied[0]).toContain(new URL(target).host);

    const bypass = createGraphClient({ baseUrl: target, env: { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' } });
    try {
      await bypass.fetchGraph(query);
    } finally {
      await bypass.close();
    }
    expect(proxied).toHaveLength(1);
  });
});
