// Types for the undocumented dbus-next 0.10.2 internals used by the peer-to-peer adapter
// (src/dbus/peer.ts, connection.ts, framing.ts, wire-reader.ts). They are deep requires that only work because dbus-next 0.10.2 has no
// `exports` map; package.json pins dbus-next exactly and test/integration/dbus keeps them honest.

declare module 'dbus-next/lib/bus.js' {
  import type { MessageBus } from 'dbus-next';
  import type { EventEmitter } from 'node:events';
  /** The MessageBus constructor: takes any connection-like emitter (message/error/end/connect, message(), stream). */
  const MessageBusCtor: new (conn: EventEmitter) => MessageBus;
  export = MessageBusCtor;
}

declare module 'dbus-next/lib/connection.js' {
  import type { EventEmitter } from 'node:events';
  /** Creates a client connection (stream + client SASL) for a D-Bus address. */
  function createConnection(opts: { busAddress: string; authMethods?: string[] }): EventEmitter;
  export = createConnection;
}

declare module 'dbus-next/lib/marshall-compat.js' {
  /** Converts a raw unmarshalled message into dbus-next's plain-JS body format (in place). */
  export function messageToJsFmt(raw: unknown): object;
  /** Marshalls a Message (or message-like object) into wire bytes plus fds. */
  export function marshallMessage(msg: object): [Buffer, number[]];
}

declare module 'dbus-next/lib/readline.js' {
  import type { Readable } from 'node:stream';
  /** Reads one `\n`-terminated line byte by byte, so nothing past the line is consumed. */
  function readOneLine(stream: Readable, cb: (line: Buffer) => void): void;
  export = readOneLine;
}

declare module 'dbus-next/lib/dbus-buffer.js' {
  /** dbus-next's wire reader over one message's bytes (used by src/dbus/framing.ts). */
  class DBusBuffer {
    constructor(buffer: Buffer, startPos: number, endian: number, fds: undefined, options: object);
    /** Read position within the buffer. */
    pos: number;
    /** Reads an array of `arrayBlobSize` bytes whose elements have the type tree `eleType`. */
    readArray(eleType: unknown, arrayBlobSize: number): unknown[];
    /** Skips padding to a 2^power boundary. */
    align(power: number): void;
    /** Reads values of a signature, in the marshaller's format. */
    read(signature: string): unknown[];
    /** The message bytes being read. */
    buffer: Buffer;
    /** Reads one byte (past the end it returns undefined). */
    readInt8(): number;
    /** Reads a basic type by its type code. */
    readSimpleType(type: string): unknown;
    /** Reads a variant: its signature, then [type tree, values]. */
    readVariant(): [unknown, unknown[]];
    /** Reads one value of a type tree. */
    readTree(tree: unknown): unknown;
    /** Reads the values of a list of type trees. */
    readStruct(trees: unknown): unknown[];
  }
  export = DBusBuffer;
}

declare module 'dbus-next/lib/signature.js' {
  /** Parses a signature string into dbus-next's type trees (lenient: accepts `()`). */
  export function parseSignature(signature: string): unknown[];
}

declare module 'dbus-next/lib/handshake.js' {
  import type { Duplex } from 'node:stream';
  /** Client side of SASL: writes the NUL byte, authenticates, sends BEGIN, then calls back with the server guid. */
  function clientHandshake(stream: Duplex, opts: { authMethods?: string[] }, cb: (err: Error | null, guid?: string) => void): void;
  export = clientHandshake;
}
