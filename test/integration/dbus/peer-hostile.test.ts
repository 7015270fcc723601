// Hostile bytes on a peer-to-peer link: a malformed message closes that one connection, never the
// process, on both sides (the backend's transaction server, the agent's transaction client).
// dbus-next's own parser threw out of a stream 'readable' handler (an all-0xff header asked
// stream.read() for 4 GiB: RangeError ERR_OUT_OF_RANGE), an uncaught exception that killed the process.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dbus from 'dbus-next';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whenClosed } from '../../../src/dbus/connection.js';
import { connectPeer, listenPeer, type MessageBus } from '../../../src/dbus/peer.js';
import { serverHandshake } from '../../../src/dbus/sasl-server.js';

const hexUid = Buffer.from(String(process.getuid?.() ?? 0), 'ascii').toString('hex');

/** A fixed 16-byte header: endian, type, flags, version, body length, serial, fields length. */
function header(o: { endian?: string; type?: number; version?: number; body?: number; serial?: number; fields?: number }): Buffer {
  const b = Buffer.alloc(16);
  b.write(o.endian ?? 'l', 0, 'latin1');
  b[1] = o.type ?? 1;
  b[2] = 0;
  b[3] = o.version ?? 1;
  b.writeUInt32LE(o.body ?? 0, 4);
  b.writeUInt32LE(o.serial ?? 1, 8);
  b.writeUInt32LE(o.fields ?? 0, 12);
  return b;
}

/** A METHOD_CALL whose PATH header field (code 1) claims signature `s` instead of `o`, with a value. */
function wrongFieldType(): Buffer {
  // field: code 1, variant signature "s", string "x" -> y(1) g(1 's' 0) pad s(len=1 'x' 0)
  const field = Buffer.from([1, 1, 0x73, 0, 1, 0, 0, 0, 0x78, 0]);
  const padded = Buffer.concat([field, Buffer.alloc(6)]);
  return Buffer.concat([header({ fields: field.length }), padded]);
}

/** A PATH field whose string length (4096) runs far past the 16-byte header fields array. */
function overlongField(): Buffer {
  const field = Buffer.from([1, 1, 0x6f, 0, 0, 0x10, 0, 0, 0x2f, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78]);
  return Buffer.concat([header({ fields: field.length }), field]);
}

/** Malformed messages, each of which must close the connection that sent it. */
const GARBAGE: Record<string, Buffer> = {
  'an all-0xff header': Buffer.alloc(32, 0xff),
  'a body length past the spec maximum': header({ body: 0xfffffff0 }),
  'an unknown endianness byte': header({ endian: 'x' }),
  'message type 0': header({ type: 0 }),
  'protocol version 2': header({ version: 2 }),
  'a header field string running past the header': overlongField(),
  'a header field of the wrong type': wrongFieldType(),
  'a method call without a path or member': header({}),
};

/** Resolves with `p`'s outcome, or 'timed out' after `ms` (the old code never closed the link). */
function within<T>(p: Promise<T>, ms = 5000): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Connects raw, authenticates with EXTERNAL, then writes `bytes`; 'closed' once the server hangs up. */
async function rawClient(path: string, bytes: Buffer): Promise<'closed' | 'timed out'> {
  const socket = net.createConnection(path);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  let seen = '';
  const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')));
  socket.on('data', (d: Buffer) => {
    seen += d.toString('latin1');
    if (seen.includes('OK ') && seen.includes('\r\n')) {
      seen = '\0';
      socket.write('BEGIN\r\n');
      socket.write(bytes);
    }
  });
  socket.write(`\0AUTH EXTERNAL ${hexUid}\r\n`);
  const outcome = await within(closed);
  socket.destroy();
  return outcome;
}

async function ping(bus: MessageBus): Promise<void> {
  await bus.call(new dbus.Message({ destination: 'x.y', path: '/', interface: 'org.freedesktop.DBus.Peer', member: 'Ping' }));
}

describe('peer-to-peer links with hostile input', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'peer-hostile-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it.each(Object.keys(GARBAGE))('a server drops a client that sends %s and keeps serving others', async (what) => {
    const errors: unknown[] = [];
    const server = await listenPeer({ path: join(dir, 'p.sock'), onConnection: () => undefined, onError: (e) => errors.push(e) });
    try {
      expect(await rawClient(join(dir, 'p.sock'), GARBAGE[what]!)).toBe('closed');
      expect(errors.map(String).join('\n')).toMatch(/DBUS_BAD_MESSAGE|malformed|bad D-Bus message/i);
      const good = await connectPeer(server.address);
      await ping(good);
      good.disconnect();
    } finally {
      await server.close();
    }
  });

  it('a client closes its link cleanly when the server sends garbage, failing the pending call', async () => {
    const path = join(dir, 'evil.sock');
    const sockets: net.Socket[] = [];
    const evil = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
      void serverHandshake(socket, { guid: '0'.repeat(32), allowUid: () => true, timeoutMs: 5000 }).then(
        () => socket.once('data', () => socket.write(Buffer.alloc(32, 0xff))),
        () => socket.destroy(),
      );
    });
    await new Promise<void>((resolve) => evil.listen(path, () => resolve()));
    try {
      const errors: unknown[] = [];
      const bus = await connectPeer(`unix:path=${path}`, { onError: (e) => errors.push(e) });
      const call = ping(bus).then(
        () => 'answered',
        (e: unknown) => String((e as { type?: unknown }).type),
      );
      expect(await within(whenClosed(bus).then(() => 'closed'))).toBe('closed');
      bus.disconnect();
      expect(await call).toBe('org.freedesktop.DBus.Error.Disconnected');
      expect(errors.map(String).join('\n')).toMatch(/DBUS_BAD_MESSAGE|malformed|bad D-Bus message/i);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
  });
});
