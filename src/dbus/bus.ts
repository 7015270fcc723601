// Message-bus connections (system bus or a private dbus-daemon) and the two facts a service needs
// about its callers: the sender of the method call being handled, and that sender's unix uid.
import dbus from 'dbus-next';
import MessageBusCtor from 'dbus-next/lib/bus.js';
import createConnection from 'dbus-next/lib/connection.js';
import { armClose, waitConnected, wrapConnection, type ConnectionLike } from './connection.js';
import { DBusAdapterError } from './errors.js';
import { assertUnixPathAddress, type MessageBus } from './peer.js';

const { Message, MessageType } = dbus;

/** Where dbus-next and libdbus look for the system bus when `DBUS_SYSTEM_BUS_ADDRESS` is unset. */
export const DEFAULT_SYSTEM_BUS_ADDRESS = 'unix:path=/var/run/dbus/system_bus_socket';

/** Options of {@link connectBus}. */
export interface ConnectBusOptions {
  /** Explicit bus address (tests: a private dbus-daemon); wins over `system`. */
  readonly address?: string;
  /** Without `address`: true = system bus (default), false = session bus (`DBUS_SESSION_BUS_ADDRESS`). */
  readonly system?: boolean;
  /** Environment to read the bus addresses from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Fail when the bus has not answered Hello within this many ms (default 10000). */
  readonly timeoutMs?: number;
  /** Receives connection errors once connected (default: ignored; a close fails pending calls). */
  readonly onError?: (err: unknown) => void;
}

/** Resolves the address {@link connectBus} would use, honouring `DBUS_SYSTEM_BUS_ADDRESS`. */
export function resolveBusAddress(opts: Pick<ConnectBusOptions, 'address' | 'system' | 'env'>): string {
  const env = opts.env ?? process.env;
  if (opts.address !== undefined && opts.address !== '') return opts.address;
  if (opts.system === false) {
    const session = env['DBUS_SESSION_BUS_ADDRESS'];
    if (session === undefined || session === '') {
      throw new DBusAdapterError('DBUS_BAD_ADDRESS', 'DBUS_SESSION_BUS_ADDRESS is not set');
    }
    return session;
  }
  const sys = env['DBUS_SYSTEM_BUS_ADDRESS'];
  return sys !== undefined && sys !== '' ? sys : DEFAULT_SYSTEM_BUS_ADDRESS;
}

/**
 * Connects to a message bus and resolves once the daemon answered Hello (so `bus.name` is set).
 * Calls pending when the daemon goes away reject with `org.freedesktop.DBus.Error.Disconnected`.
 */
export async function connectBus(opts: ConnectBusOptions = {}): Promise<MessageBus> {
  const address = resolveBusAddress(opts);
  assertUnixPathAddress(address);
  const inner = createConnection({ busAddress: address, authMethods: ['EXTERNAL'] }) as ConnectionLike;
  const bus = new MessageBusCtor(wrapConnection(inner, { driverless: false, uniqueName: '' }));
  armClose(bus);
  await waitConnected(bus, inner, bus, opts.timeoutMs ?? 10_000, `bus ${address}`);
  bus.on('error', (err: unknown) => opts.onError?.(err));
  return bus;
}

/** Reads the unique bus name of the method call currently being dispatched; see {@link trackSenders}. */
export interface SenderTracker {
  /**
   * The sender of the call being dispatched right now. Only valid synchronously at the start of a
   * method implementation (before its first `await`); undefined on peer links (no sender there).
   */
  current(): string | undefined;
  /** Removes the hook from the bus. */
  dispose(): void;
}

/**
 * dbus-next 0.10.2 does not pass the message to interface methods, so rpm-ostree semantics (the
 * caller in `ActiveTransaction`, authorisation by uid) need this: a method handler that records
 * `msg.sender` and returns false, so dbus-next's normal dispatch follows synchronously.
 */
export function trackSenders(bus: MessageBus): SenderTracker {
  let last: string | undefined;
  const hook = (msg: dbus.Message): boolean => {
    if (msg.type === MessageType.METHOD_CALL) last = msg.sender;
    return false;
  };
  bus.addMethodHandler(hook);
  return {
    current: () => last,
    dispose: () => bus.removeMethodHandler(hook),
  };
}

function driverCall(member: string, signature: string, body: unknown[]): dbus.Message {
  return new Message({
    destination: 'org.freedesktop.DBus',
    path: '/org/freedesktop/DBus',
    interface: 'org.freedesktop.DBus',
    member,
    signature,
    body,
  });
}

/** Asks the bus daemon for the unix uid behind a unique (or well-known) name. */
export async function getConnectionUnixUser(bus: MessageBus, sender: string): Promise<number> {
  const reply = await bus.call(driverCall('GetConnectionUnixUser', 's', [sender]));
  const uid: unknown = reply?.body[0];
  if (typeof uid !== 'number') {
    throw new DBusAdapterError('DBUS_CONNECT_FAILED', `bus returned a non-numeric uid for '${sender}'`);
  }
  return uid;
}

/** Asks the bus daemon for the current owner of a well-known name; null when nobody owns it. */
export async function getNameOwner(bus: MessageBus, name: string): Promise<string | null> {
  try {
    const reply = await bus.call(driverCall('GetNameOwner', 's', [name]));
    const owner: unknown = reply?.body[0];
    return typeof owner === 'string' ? owner : null;
  } catch (err: unknown) {
    if ((err as { type?: unknown }).type === 'org.freedesktop.DBus.Error.NameHasNoOwner') return null;
    throw err;
  }
}

/**
 * Calls `listener(newOwner)` whenever the owner of `name` changes (empty string = vanished), via
 * the bus's `NameOwnerChanged` signal. A unique name (`:1.7`) that is already gone once the match
 * is in place is reported as vanished too: a caller that left the bus while we were still handling
 * its call sent its signal before we listened, and it never comes back. A report never repeats the
 * previous one. Returns an unsubscribe function.
 */
export async function watchNameOwner(bus: MessageBus, name: string, listener: (newOwner: string) => void): Promise<() => void> {
  const rule = `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${name}'`;
  let last: string | undefined;
  const report = (owner: string): void => {
    if (owner === last) return; // the signal and the initial check both saw the same departure
    last = owner;
    listener(owner);
  };
  await bus.call(driverCall('AddMatch', 's', [rule]));
  const onMessage = (msg: dbus.Message): void => {
    if (
      msg.type === MessageType.SIGNAL &&
      msg.interface === 'org.freedesktop.DBus' &&
      msg.member === 'NameOwnerChanged' &&
      msg.body[0] === name
    ) {
      report(String(msg.body[2]));
    }
  };
  bus.on('message', onMessage);
  // After the match: a departure from here on arrives as a signal; one before it only shows here.
  if (name.startsWith(':') && (await getNameOwner(bus, name).catch(() => undefined)) === null) report('');
  return () => {
    bus.off('message', onMessage);
    bus.call(driverCall('RemoveMatch', 's', [rule])).catch(() => undefined);
  };
}

/** The bus-assigned unique name of this connection (e.g. `:1.7`); null before Hello or on peer links' fake name. */
export function uniqueName(bus: MessageBus): string | null {
  const name = (bus as unknown as { name?: unknown }).name;
  return typeof name === 'string' ? name : null;
}
