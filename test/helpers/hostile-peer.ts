// Test helper: hostile bytes for peer-to-peer D-Bus links -- malformed messages, and a raw client
// that authenticates with EXTERNAL and then sends them.
import net from 'node:net';

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
export const GARBAGE: Record<string, Buffer> = {
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
export function within<T>(p: Promise<T>, ms = 5000): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Connects raw, authenticates with EXTERNAL, then writes `bytes`; 'closed' once the server hangs up. */
export async function rawClient(path: string, bytes: Buffer): Promise<'closed' | 'timed out'> {
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

