// Fault-injection fixtures: a seeded PRNG, and a misbehaving HTTP server on 127.0.0.1 that stands in
// for alt-graphd (500s, hangs, truncated or huge bodies, connection resets, a stream of given bodies)
// and can forward to the real server when it should behave.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A seeded pseudo-random source (mulberry32): the same seed always gives the same sequence. */
export interface Prng {
  /** The seed it was created with (print it on failure). */
  readonly seed: number;
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/** Creates a mulberry32 PRNG from a 32-bit seed. */
export function createPrng(seed: number): Prng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

/** How the fault server answers the next requests. */
export type FaultMode =
  /** Forward to a real server (alt-graphd) and relay its answer. */
  | { readonly kind: 'proxy'; readonly target: string }
  /** Answer with this status and body. */
  | { readonly kind: 'status'; readonly status: number; readonly body?: string }
  /** Read the request and never answer (until `releaseHung()` or `close()`). */
  | { readonly kind: 'hang' }
  /** 200 whose complete body is `body` cut to `keep` bytes: well-formed HTTP, truncated JSON. */
  | { readonly kind: 'truncated_json'; readonly body: string; readonly keep: number }
  /** 200 declaring `content-length` of `body`, sending `keep` bytes, then closing the socket. */
  | { readonly kind: 'short_body'; readonly body: string; readonly keep: number }
  /** 200 streaming `bytes` bytes of JSON-looking filler (chunked unless `declareLength`). */
  | { readonly kind: 'huge'; readonly bytes: number; readonly declareLength: boolean }
  /** Reset the TCP connection (RST) as soon as the request arrives. */
  | { readonly kind: 'reset' }
  /** 200 with the body the function returns for the n-th request in this mode (0-based). */
  | { readonly kind: 'bodies'; readonly next: (n: number) => string }
  /** Status and body the function returns for the n-th request in this mode and its path. */
  | { readonly kind: 'replies'; readonly next: (n: number, path: string) => { status: number; body: string } };

/** A running misbehaving server. */
export interface FaultServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** Switches the behaviour for the following requests (requests already hanging stay hung). */
  setMode(mode: FaultMode): void;
  /** Requests received since the last `setMode` (or start). */
  requestsInMode(): number;
  /** Bytes of body written to clients in the current mode (for `huge`). */
  bytesSentInMode(): number;
  /** Requests currently held open by `hang`. */
  hanging(): number;
  /** Destroys the sockets of hung requests (the client sees its connection closed). */
  releaseHung(): void;
  /** Closes the server and every connection. */
  close(): Promise<void>;
}

async function proxy(target: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const upstream = await fetch(new URL(req.url ?? '/', target), { headers: { accept: 'application/json' } });
    const body = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(body);
  } catch {
    res.writeHead(502).end();
  }
}

function streamFiller(res: ServerResponse, bytes: number, declareLength: boolean, count: (n: number) => void): void {
  res.writeHead(200, { 'content-type': 'application/json', ...(declareLength ? { 'content-length': String(bytes) } : {}) });
  const chunk = Buffer.alloc(1 << 20, 0x20);
  chunk.write('{"nodes":[');
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes && !res.destroyed) {
      const n = Math.min(chunk.length, bytes - sent);
      sent += n;
      count(n);
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
}

/** Starts the fault server on 127.0.0.1 (port 0 unless given). */
export async function startFaultServer(initial: FaultMode, port = 0): Promise<FaultServer> {
  let mode: FaultMode = initial;
  let inMode = 0;
  let bytesInMode = 0;
  const hung = new Set<Socket>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const n = inMode++;
    const m = mode;
    req.resume();
    switch (m.kind) {
      case 'proxy':
        void proxy(m.target, req, res);
        return;
      case 'status':
        res.writeHead(m.status, { 'content-type': 'application/json' }).end(m.body ?? '');
        return;
      case 'hang':
        hung.add(req.socket);
        req.socket.once('close', () => hung.delete(req.socket));
        return;
      case 'truncated_json':
        res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end(Buffer.from(m.body).subarray(0, m.keep));
        return;
      case 'short_body': {
        const full = Buffer.from(m.body);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(full.length) });
        res.write(full.subarray(0, m.keep), () => req.socket.destroy());
        return;
      }
      case 'huge':
        streamFiller(res, m.bytes, m.declareLength, (k) => (bytesInMode += k));
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'bodies':
        res.writeHead(200, { 'content-type': 'application/json' }).end(m.next(n));
        return;
      case 'replies': {
        const { status, body } = m.next(n, req.url ?? '/');
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
        return;
      }
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    setMode(next) {
      mode = next;
      inMode = 0;
      bytesInMode = 0;
    },
    requestsInMode: () => inMode,
    bytesSentInMode: () => bytesInMode,
    hanging: () => hung.size,
    releaseHung() {
      for (const s of hung) s.destroy();
      hung.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
