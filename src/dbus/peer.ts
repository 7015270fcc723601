// Peer-to-peer D-Bus (no bus daemon) on top of dbus-next 0.10.2, which only knows message buses.
// Approach verified in ../shared/reference/dbus-next-peer-to-peer.md; rpm-ostree uses such links for
// transactions (`GDBusServer` on a unix socket, the client connects with AUTHENTICATION_CLIENT).
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { dirname } from 'node:path';
import dbus from 'dbus-next';
import MessageBusCtor from 'dbus-next/lib/bus.js';
import clientHandshake from 'dbus-next/lib/handshake.js';
import { armClose, streamConnection, wrapConnection } from './connection.js';
import { DBusAdapterError } from './errors.js';
import { serverHandshake } from './sasl-server.js';

const { Message } = dbus;

/** A connected dbus-next bus object; on a peer link it has no bus names (use any name in getProxyObject). */
export type MessageBus = dbus.MessageBus;

/** Options of {@link connectPeer}. */
export interface ConnectPeerOptions {
  /** Fail when the peer has not completed authentication within this many ms (default 10000). */
  readonly timeoutMs?: number;
  /** Receives connection errors after the connection is up (default: ignored; closes fail calls). */
  readonly onError?: (err: unknown) => void;
}

/** Unique name our adapter reports to the local MessageBus for a peer link (never on the wire). */
const CLIENT_NAME = ':peer.client';
const SERVER_NAME = ':peer.server';

/** Checks an address is a `unix:path=` one (abstract sockets need dbus-next's optional native module). */
export function assertUnixPathAddress(address: string): void {
  const first = address.split(';')[0] ?? '';
  if (!/^unix:(.*,)?path=[^,]+/.test(first)) {
    throw new DBusAdapterError('DBUS_BAD_ADDRESS', `unsupported D-Bus address '${address}': only unix:path= is supported`);
  }
}

/** The socket path of a `unix:path=` address (the first one of a `;` list), with `%xx` escapes decoded. */
export function socketPathOf(address: string): string {
  assertUnixPathAddress(address);
  const first = address.split(';')[0]!;
  const value = first.slice('unix:'.length).split(',').find((kv) => kv.startsWith('path='))!.slice('path='.length);
  try {
    return decodeURIComponent(value);
  } catch {
    throw new DBusAdapterError('DBUS_BAD_ADDRESS', `bad escape in D-Bus address '${address}'`);
  }
}

/** Connects the socket and runs the client half of SASL EXTERNAL; DBUS_CONNECT_FAILED on any failure. */
function authenticate(socket: net.Socket, timeoutMs: number, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err === undefined) resolve();
      else {
        socket.destroy();
        reject(err);
      }
    };
    const onError = (err: Error): void => finish(new DBusAdapterError('DBUS_CONNECT_FAILED', `cannot connect to ${what}: ${err.message}`, { cause: err }));
    const onClose = (): void => finish(new DBusAdapterError('DBUS_CONNECT_FAILED', `${what} closed the connection during setup`));
    const timer = setTimeout(() => finish(new DBusAdapterError('DBUS_CONNECT_FAILED', `${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('connect', () =>
      clientHandshake(socket, { authMethods: ['EXTERNAL'] }, (err) =>
        finish(err ? new DBusAdapterError('DBUS_CONNECT_FAILED', `cannot connect to ${what}: authentication failed: ${String(err)}`) : undefined),
      ),
    );
  });
}

/**
 * Connects to a peer-to-peer D-Bus address (e.g. an rpm-ostree transaction socket) without a bus
 * daemon. Resolves once SASL is done; the returned bus works with `getProxyObject(anyName, '/')`,
 * method calls, properties and signal listeners. Calls pending when the peer goes away reject with
 * `org.freedesktop.DBus.Error.Disconnected`; `disconnect()` destroys the socket. Incoming messages
 * go through the defensive reader (framing.ts): a peer sending garbage closes the link, which
 * `onError` hears about (DBUS_BAD_MESSAGE), and never throws in this process.
 */
export async function connectPeer(address: string, opts: ConnectPeerOptions = {}): Promise<MessageBus> {
  const path = socketPathOf(address);
  const socket = net.createConnection(path);
  await authenticate(socket, opts.timeoutMs ?? 10_000, `peer ${address}`);
  const bus = new MessageBusCtor(wrapConnection(streamConnection(socket), { driverless: true, uniqueName: CLIENT_NAME }));
  armClose(bus);
  bus.on('error', (err: unknown) => opts.onError?.(err));
  return bus;
}

/** A listening peer-to-peer server; see {@link listenPeer}. */
export interface PeerServer {
  /** The address clients connect to: `unix:path=<path>,guid=<guid>`. */
  readonly address: string;
  /** Stops listening, drops every live connection and removes the socket file (with `connectableBy`: its directory). */
  close(): Promise<void>;
}

/** Options of {@link listenPeer}. */
export interface ListenPeerOptions {
  /** Socket path; its characters must not need D-Bus address escaping (`[A-Za-z0-9_./-]`). */
  readonly path: string;
  /** Called with one MessageBus per authenticated client: export objects on it (e.g. at `/`). */
  readonly onConnection: (bus: MessageBus) => void;
  /** Uid(s) accepted in SASL EXTERNAL (default: our own uid). Claimed, not kernel-checked. */
  readonly uid?: number | readonly number[];
  /**
   * The one uid (besides root) the kernel lets connect(); see {@link listenPrivate}. The socket's
   * parent directory then belongs to this server: it is created fresh and removed on close.
   */
  readonly connectableBy?: number;
  /** Authentication deadline per client in ms (default 10000). */
  readonly authTimeoutMs?: number;
  /** Receives per-connection failures (bad handshake, stream errors); default: ignored. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Answers bus-driver calls a client may send to us (`gdbus call --address` sends Hello and
 * AddMatch): a courtesy for debugging, rpm-ostree's own server does not do it.
 */
function courtesyDriverHandler(bus: MessageBus): (msg: dbus.Message) => boolean {
  return (msg: dbus.Message): boolean => {
    if (msg.destination !== 'org.freedesktop.DBus' || msg.path !== '/org/freedesktop/DBus') return false;
    if (msg.member === 'Hello') bus.send(Message.newMethodReturn(msg, 's', [':1.0']));
    else if (msg.member === 'AddMatch' || msg.member === 'RemoveMatch') bus.send(Message.newMethodReturn(msg, '', []));
    else return false;
    return true;
  };
}

/**
 * Binds `path` so that only `uid` and root can connect, enforced by the kernel (SASL EXTERNAL's uid
 * is only claimed: Node cannot read SO_PEERCRED). Linux requires search permission on every
 * directory and write permission on the socket file for connect(). So: the parent directory is
 * created fresh with mode 0700 (a leftover of a crashed predecessor is removed first; mkdir fails on
 * anything planted in between), the socket is bound there while nobody else can reach it, then
 * given to `uid` with mode 0600, and only then is the directory opened to 0711 (traversable, not
 * listable). The caller owns nothing it could rename or replace; root's access needs no grant.
 */
async function listenPrivate(path: string, uid: number, listen: () => Promise<void>): Promise<void> {
  const dir = dirname(path);
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err: unknown) {
      throw new DBusAdapterError('DBUS_LISTEN_FAILED', `cannot ${what}: ${(err as Error).message}`, { cause: err });
    }
  };
  await step(`remove the leftover directory '${dir}'`, () => rm(dir, { recursive: true, force: true }));
  await step(`create the private directory '${dir}'`, async () => {
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o700); // mkdir's mode is filtered by the umask; say it exactly
  });
  await listen();
  if (uid !== (process.getuid?.() ?? 0)) await step(`give the socket '${path}' to uid ${uid}`, () => chown(path, uid, -1));
  await step(`restrict the socket '${path}'`, () => chmod(path, 0o600));
  await step(`open the directory '${dir}'`, () => chmod(dir, 0o711));
}

/**
 * Listens for peer-to-peer D-Bus clients on a unix socket (the role of rpm-ostree's per-transaction
 * `GDBusServer`): server-side SASL EXTERNAL, then one MessageBus per client passed to `onConnection`.
 */
export async function listenPeer(opts: ListenPeerOptions): Promise<PeerServer> {
  if (!/^[A-Za-z0-9_./-]+$/.test(opts.path)) {
    throw new DBusAdapterError('DBUS_BAD_ADDRESS', `peer socket path '${opts.path}' needs D-Bus address escaping`);
  }
  const guid = randomBytes(16).toString('hex');
  const uids = opts.uid === undefined ? [process.getuid?.() ?? 0] : typeof opts.uid === 'number' ? [opts.uid] : opts.uid;
  const sockets = new Set<net.Socket>();
  const buses = new Set<MessageBus>();
  const report = (err: unknown): void => opts.onError?.(err);

  const onSocket = async (socket: net.Socket): Promise<void> => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', report);
    await serverHandshake(socket, { guid, allowUid: (u) => uids.includes(u), timeoutMs: opts.authTimeoutMs ?? 10_000 });
    const conn = wrapConnection(streamConnection(socket), { driverless: true, uniqueName: SERVER_NAME });
    const bus = new MessageBusCtor(conn);
    armClose(bus);
    bus.on('error', report);
    bus.addMethodHandler(courtesyDriverHandler(bus));
    buses.add(bus);
    socket.on('close', () => buses.delete(bus));
    opts.onConnection(bus);
  };

  const server = net.createServer((socket) => {
    onSocket(socket).catch((err: unknown) => {
      report(err);
      socket.destroy();
    });
  });
  const owner = opts.connectableBy;
  const listen = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new DBusAdapterError('DBUS_LISTEN_FAILED', `cannot listen on '${opts.path}': ${err.message}`, { cause: err })),
      );
      server.listen(opts.path, () => resolve());
    });
  if (owner === undefined) await listen();
  else await listenPrivate(opts.path, owner, listen).catch(async (err: unknown) => {
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    await rm(dirname(opts.path), { recursive: true, force: true });
    throw err;
  });
  server.on('error', report);

  let closing: Promise<void> | undefined;
  return {
    address: `unix:path=${opts.path},guid=${guid}`,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const bus of buses) bus.disconnect();
        for (const s of sockets) s.destroy();
        await closed;
        await rm(owner === undefined ? opts.path : dirname(opts.path), { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
