// Connection-level plumbing shared by the peer-to-peer and bus paths: a wrapper around a dbus-next
// connection that (optionally) answers bus-driver calls locally, fails pending calls when the
// stream closes, and a connection built over an already-authenticated stream (server side).
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import dbus from 'dbus-next';
import { marshallMessage, messageToJsFmt } from 'dbus-next/lib/marshall-compat.js';
import { DBusAdapterError, DISCONNECTED_ERROR } from './errors.js';
import { readMessages } from './framing.js';

const { Message, MessageType, MessageFlag } = dbus;

/** dbus-next's types declare `newError(msg: string, ...)`; the implementation takes the call Message. */
export const newErrorReply = Message.newError as unknown as (msg: dbus.Message, name: string, text: string) => dbus.Message;

const DRIVER_NAME = 'org.freedesktop.DBus';
const DRIVER_PATH = '/org/freedesktop/DBus';
// MessageBus's constructor sends Hello as its very first message.
const HELLO_SERIAL = '1';

/** The shape dbus-next's MessageBus expects of its connection (see node_modules/dbus-next/lib/bus.js). */
export interface ConnectionLike extends EventEmitter {
  /** The byte stream; MessageBus.disconnect() calls `stream.end()`. */
  stream: Duplex;
  /** Sends one message (a dbus-next Message or a message-like object). */
  message(msg: dbus.Message): void;
}

/** A message as dbus-next hands it to connections (fields we read; plain objects are allowed too). */
type WireMessage = dbus.Message;

function isDriverCall(msg: WireMessage): boolean {
  return (
    msg.type === MessageType.METHOD_CALL && msg.destination === DRIVER_NAME && msg.path === DRIVER_PATH
  );
}

function expectsReply(msg: WireMessage): boolean {
  return msg.type === MessageType.METHOD_CALL && (Number(msg.flags ?? 0) & MessageFlag.NO_REPLY_EXPECTED) === 0;
}

/** Builds the reply a bus daemon would give to Hello/AddMatch/RemoveMatch/GetNameOwner on a peer link. */
function localDriverReply(msg: WireMessage, uniqueName: string): dbus.Message {
  switch (msg.member) {
    case 'Hello':
      return Message.newMethodReturn(msg, 's', [uniqueName]);
    case 'AddMatch':
    case 'RemoveMatch':
      return Message.newMethodReturn(msg, '', []);
    case 'GetNameOwner':
      // dbus-next's ProxyObject treats NameHasNoOwner as "fine" when built from XML.
      return newErrorReply(msg, 'org.freedesktop.DBus.Error.NameHasNoOwner', 'peer-to-peer connection has no bus names');
    default:
      return newErrorReply(
        msg,
        'org.freedesktop.DBus.Error.NotSupported',
        `no message bus on a peer-to-peer connection (${msg.member ?? '?'})`,
      );
  }
}

/**
 * Wraps a dbus-next connection for a MessageBus.
 *
 * - `driverless`: bus-driver calls are answered locally (a peer-to-peer link has no bus daemon).
 * - Always: a method call sent on a closed stream gets a synthetic `Disconnected` error reply instead
 *   of hanging or throwing from deep inside dbus-next.
 *
 * The inner `message` function is looked up on every call because dbus-next swaps it after SASL.
 */
export function wrapConnection(inner: ConnectionLike, opts: { driverless: boolean; uniqueName: string }): ConnectionLike {
  const outer = new EventEmitter() as ConnectionLike;
  outer.stream = inner.stream;
  const replyLater = (reply: dbus.Message): void => {
    process.nextTick(() => outer.emit('message', reply));
  };
  for (const ev of ['message', 'error', 'end', 'connect']) {
    inner.on(ev, (...args: unknown[]) => outer.emit(ev, ...args));
  }
  outer.message = (msg: WireMessage): void => {
    if (opts.driverless && isDriverCall(msg)) {
      if (expectsReply(msg)) replyLater(localDriverReply(msg, opts.uniqueName));
      return;
    }
    const s = inner.stream;
    if (s.destroyed || !s.writable) {
      if (expectsReply(msg)) replyLater(newErrorReply(msg, DISCONNECTED_ERROR, 'connection is closed'));
      return;
    }
    inner.message(msg);
  };
  return outer;
}

/**
 * A connection over a stream whose SASL handshake is already done (both ends of a peer link): the
 * marshaller dbus-next uses internally, and our defensive reader (framing.ts) instead of dbus-next's,
 * which throws out of the stream's events on garbage. A malformed message is emitted as a
 * DBUS_BAD_MESSAGE 'error' and closes the stream: that connection, never the process.
 */
export function streamConnection(stream: Duplex, opts: { maxMessageBytes?: number } = {}): ConnectionLike {
  const conn = new EventEmitter() as ConnectionLike;
  conn.stream = stream;
  stream.on('error', (err: unknown) => conn.emit('error', err));
  stream.on('end', () => conn.emit('end'));
  conn.message = (msg: WireMessage): void => {
    const [data] = marshallMessage(msg);
    stream.write(data);
  };
  readMessages(
    stream,
    (raw) => {
      let msg: dbus.Message;
      try {
        msg = new Message(messageToJsFmt(raw) as dbus.MessageLike);
      } catch (err: unknown) {
        conn.emit('error', new DBusAdapterError('DBUS_BAD_MESSAGE', `malformed D-Bus message from the peer: ${String(err)}`, { cause: err }));
        stream.destroy();
        return;
      }
      conn.emit('message', msg);
    },
    (err) => {
      conn.emit('error', err);
      stream.destroy();
    },
    opts.maxMessageBytes,
  );
  // Bytes that arrived together with BEGIN are already buffered: make sure the parser sees them.
  process.nextTick(() => {
    if (stream.readableLength > 0) stream.emit('readable');
  });
  return conn;
}

/** The parts of dbus-next's MessageBus internals this module touches. */
interface BusInternals {
  _connection: ConnectionLike;
  _methodReturnHandlers: Record<string, (reply: dbus.Message) => void>;
}

function internals(bus: dbus.MessageBus): BusInternals {
  return bus as unknown as BusInternals;
}

/**
 * Makes a MessageBus fail loudly when its stream closes: every pending method call is rejected
 * with `org.freedesktop.DBus.Error.Disconnected` (dbus-next itself leaves them pending forever), and
 * `disconnect()` also destroys the stream (dbus-next only half-closes it, and a GLib peer keeps its
 * side open, which would keep the process alive). The Hello call (always serial 1, the constructor's
 * first message) is dropped instead: dbus-next rethrows its rejection as an unhandled rejection.
 */
export function armClose(bus: dbus.MessageBus): void {
  const bi = internals(bus);
  const stream = bi._connection.stream;
  stream.once('close', () => {
    const pending = bi._methodReturnHandlers;
    bi._methodReturnHandlers = {};
    for (const [serial, handler] of Object.entries(pending)) {
      if (serial === HELLO_SERIAL) continue;
      handler(
        new Message({
          type: MessageType.ERROR,
          replySerial: serial,
          errorName: DISCONNECTED_ERROR,
          signature: 's',
          body: ['connection closed'],
        }),
      );
    }
  });
  const disconnect = bus.disconnect.bind(bus);
  bus.disconnect = (): void => {
    try {
      disconnect();
    } finally {
      stream.destroy();
    }
  };
}

/** Resolves when the bus connection's stream has closed (peer gone, daemon gone, or disconnect()). */
export function whenClosed(bus: dbus.MessageBus): Promise<void> {
  const stream = internals(bus)._connection.stream;
  if (stream.destroyed && stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** True once the bus connection's stream has closed. */
export function isClosed(bus: dbus.MessageBus): boolean {
  return internals(bus)._connection.stream.closed;
}

/**
 * Resolves when `ready` emits 'connect' (the connection after authentication on a peer link, the
 * MessageBus after Hello on a bus); rejects with DBUS_CONNECT_FAILED, and destroys the stream, on an
 * error, a close or `timeoutMs` first. `what` names the other end in the messages.
 */
export function waitConnected(ready: EventEmitter, conn: ConnectionLike, bus: dbus.MessageBus, timeoutMs: number, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      ready.off('connect', onConnect);
      bus.off('error', onError);
      conn.stream.off('close', onClose);
    };
    const fail = (err: Error): void => {
      cleanup();
      conn.stream.destroy();
      reject(err);
    };
    const onConnect = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: unknown): void =>
      fail(new DBusAdapterError('DBUS_CONNECT_FAILED', `cannot connect to ${what}: ${String(err)}`, { cause: err }));
    const onClose = (): void => fail(new DBusAdapterError('DBUS_CONNECT_FAILED', `${what} closed the connection during setup`));
    const timer = setTimeout(
      () => fail(new DBusAdapterError('DBUS_CONNECT_FAILED', `${what} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    ready.once('connect', onConnect);
    bus.on('error', onError);
    conn.stream.once('close', onClose);
  });
}
