// Types for the undocumented dbus-next 0.10.2 internals used by the peer-to-peer adapter
// (src/dbus/peer.ts). They are deep requires that only work because dbus-next 0.10.2 has no
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

declare module 'dbus-next/lib/message.js' {
  import type { Readable } from 'node:stream';
  /** Reads wire messages from an authenticated stream, calling back with raw (marshaller-format) messages. */
  export function unmarshalMessages(stream: Readable, onMessage: (raw: unknown) => void, opts: object): void;
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
