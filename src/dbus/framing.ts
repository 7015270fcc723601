// Reads D-Bus messages from an authenticated peer-to-peer stream, defensively. dbus-next's own reader
// (lib/message.js `unmarshalMessages`) trusts the fixed header and parses inside a stream 'readable'
// handler: an all-0xff header asks `stream.read()` for 4 GiB, and the RangeError escapes as an
// uncaught exception that kills the process. Here each frame is checked against the specification's
// limits before it is read, parsed inside try/catch with the bounded reader of wire-reader.ts, and
// its header fields are type-checked; the
// first bad frame is reported and nothing more is read (the caller closes the connection).
// Spec: https://dbus.freedesktop.org/doc/dbus-specification.html#message-protocol-messages
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { DBusAdapterError } from './errors.js';
import { BoundedWireReader, SPEC_MAX_ARRAY_BYTES, badMessage } from './wire-reader.js';

const require = createRequire(import.meta.url);
// The `a(yv)` type tree of the header fields, as dbus-next parses it.
const HEADER_FIELDS_TREE = (require('dbus-next/lib/header-signature.json') as [{ child: [unknown] }])[0].child[0];

/** The specification's maximum message length (128 MiB). */
export const SPEC_MAX_MESSAGE_BYTES = 2 ** 27;

const LITTLE = 0x6c; // 'l'
const BIG = 0x42; // 'B'
const METHOD_CALL = 1;
const METHOD_RETURN = 2;
const ERROR = 3;
const SIGNAL = 4;

/** Header field codes -> [dbus-next's property name, the field's required D-Bus type]. */
const FIELDS: Readonly<Record<number, readonly [string, string]>> = {
  1: ['path', 'o'],
  2: ['interface', 's'],
  3: ['member', 's'],
  4: ['errorName', 's'],
  5: ['replySerial', 'u'],
  6: ['destination', 's'],
  7: ['sender', 's'],
  8: ['signature', 'g'],
  9: ['unixFd', 'u'],
};

/** Fields a message of each type must carry. */
const REQUIRED: Readonly<Record<number, readonly string[]>> = {
  [METHOD_CALL]: ['path', 'member'],
  [METHOD_RETURN]: ['replySerial'],
  [ERROR]: ['errorName', 'replySerial'],
  [SIGNAL]: ['path', 'interface', 'member'],
};

/** A message in dbus-next's raw (marshaller) format, ready for `messageToJsFmt`. */
export type RawMessage = Record<string, unknown>;

const bad = badMessage;

/** What the fixed 16-byte header announces; throws DBUS_BAD_MESSAGE when it breaks the spec. */
export function parseFixedHeader(h: Buffer, maxMessageBytes: number): { endian: number; rest: number; fieldsLength: number; bodyLength: number } {
  const endian = h[0]!;
  if (endian !== LITTLE && endian !== BIG) throw bad(`endianness byte 0x${endian.toString(16)}`);
  const u32 = (o: number): number => (endian === LITTLE ? h.readUInt32LE(o) : h.readUInt32BE(o));
  const type = h[1]!;
  if (type < METHOD_CALL || type > SIGNAL) throw bad(`message type ${type}`);
  if (h[3] !== 1) throw bad(`protocol version ${h[3]!}`);
  if (u32(8) === 0) throw bad('serial 0');
  const bodyLength = u32(4);
  const fieldsLength = u32(12);
  if (fieldsLength > SPEC_MAX_ARRAY_BYTES) throw bad(`header fields of ${fieldsLength} bytes`);
  const rest = (((fieldsLength + 7) >> 3) << 3) + bodyLength;
  if (16 + rest > maxMessageBytes) throw bad(`a message of ${16 + rest} bytes (limit ${maxMessageBytes})`);
  return { endian, rest, fieldsLength, bodyLength };
}

/** Parses header fields and body (everything after the fixed header) as dbus-next's reader does. */
function parseMessage(h: Buffer, endian: number, fieldsLength: number, bodyLength: number, data: Buffer): RawMessage {
  const buf = new BoundedWireReader(data, 0, endian, undefined, {});
  const fields = buf.readArray(HEADER_FIELDS_TREE, fieldsLength) as [number, [[{ type: string }], [unknown]]][];
  if (buf.pos !== fieldsLength) throw bad('header fields overrun their length');
  buf.align(3);
  const msg: RawMessage = {
    serial: endian === LITTLE ? h.readUInt32LE(8) : h.readUInt32BE(8),
    type: h[1],
    flags: h[2],
  };
  for (const [code, [tree, [value]]] of fields) {
    const known = FIELDS[code];
    if (known === undefined) continue; // the spec says to ignore unknown fields
    const [name, type] = known;
    if (tree.length !== 1 || tree[0]!.type !== type) throw bad(`header field ${name} is not of type ${type}`);
    msg[name] = value;
  }
  for (const name of REQUIRED[h[1]!] ?? []) if (msg[name] === undefined) throw bad(`no ${name} header field`);
  if (typeof msg.unixFd === 'number' && msg.unixFd > 0) throw bad('unix fds (not negotiated)');
  if (bodyLength > 0) {
    if (typeof msg.signature !== 'string' || msg.signature === '') throw bad('a body without a signature');
    msg.body = buf.read(msg.signature);
    if (buf.pos !== data.length) throw bad('body length does not match its signature');
  } else if (typeof msg.signature === 'string' && msg.signature !== '') {
    throw bad(`signature '${msg.signature}' with an empty body`);
  }
  return msg;
}

/**
 * Reads messages from `stream` (after SASL) and calls `onMessage` with each one in dbus-next's raw
 * format. The first malformed frame goes to `onBad` (a DBUS_BAD_MESSAGE error) and stops reading: the
 * caller must close the connection, whose framing is lost. Never throws out of the stream's events.
 */
export function readMessages(
  stream: Readable,
  onMessage: (msg: RawMessage) => void,
  onBad: (err: DBusAdapterError) => void,
  maxMessageBytes: number = SPEC_MAX_MESSAGE_BYTES,
): void {
  let pending: { header: Buffer; endian: number; rest: number; fieldsLength: number; bodyLength: number } | null = null;
  let stopped = false;
  const onReadable = (): void => {
    while (!stopped) {
      let msg: RawMessage;
      try {
        if (pending === null) {
          const header = stream.read(16) as Buffer | null;
          if (header === null || header.length < 16) return;
          pending = { header, ...parseFixedHeader(header, maxMessageBytes) };
        }
        const data = pending.rest === 0 ? Buffer.alloc(0) : (stream.read(pending.rest) as Buffer | null);
        if (data === null || data.length < pending.rest) return; // not all there yet (or a truncated end)
        const { header, endian, fieldsLength, bodyLength } = pending;
        pending = null;
        msg = parseMessage(header, endian, fieldsLength, bodyLength, data);
      } catch (err: unknown) {
        stopped = true;
        stream.off('readable', onReadable);
        onBad(err instanceof DBusAdapterError ? err : bad(err instanceof Error ? err.message : String(err)));
        return;
      }
      onMessage(msg);
    }
  };
  stream.on('readable', onReadable);
}
