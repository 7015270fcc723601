import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectPeer, listenPeer, type MessageBus, type PeerServer } from '../../../src/dbus/peer.js';
import { whenClosed } from '../../../src/dbus/connection.js';
import { interfaceFromXml, type XmlInterface } from '../../../src/dbus/xml-interface.js';
import { DBusMethodError, remoteErrorInfo } from '../../../src/dbus/errors.js';

const XML_PATH = new URL('../../../src/ostree/rpmostree1.xml', import.meta.url);
const TX = 'org.projectatomic.rpmostree1.Transaction';

interface Received {
  name: string;
  args: unknown[];
}

/** A Node transaction server like alt-ostreed's: emits progress then Finished on Start. */
async function transactionServer(dir: string, opts: { finish: boolean } = { finish: true }) {
  const xml = await readFile(XML_PATH, 'utf8');
  const calls: string[] = [];
  let iface: XmlInterface | undefined = undefined;
  iface = interfaceFromXml(xml, TX, {
    methods: {
      Start: (_args, call) => {
        calls.push(`Start:${String(call.sender)}`);
        setImmediate(() => {
          iface!.emitSignal('TaskBegin', 'Pulling');
          iface!.emitSignal('Message', 'hello from node');
          iface!.emitSignal('PercentProgress', 'Downloading', 42);
          iface!.emitSignal('TaskEnd', 'done');
          iface!.emitSignal('ProgressEnd');
          if (opts.finish) iface!.emitSignal('Finished', true, '');
        });
        return true;
      },
      Cancel: () => {
        calls.push('Cancel');
        throw new DBusMethodError('org.projectatomic.rpmostreed.Error.Failed', 'nothing to cancel');
      },
    },
    getProperty: (name) => (name === 'Title' ? 'node test transaction' : name === 'InitiatingClientDescription' ? 'test' : undefined),
  });
  const buses: MessageBus[] = [];
  const server = await listenPeer({
    path: join(dir, 'tx.sock'),
    onConnection: (bus) => {
      buses.push(bus);
      iface.exportOn(bus, '/');
    },
  });
  return { server, calls, buses };
}

async function followTransaction(bus: MessageBus): Promise<{ title: unknown; started: unknown; signals: Received[] }> {
  const obj = await bus.getProxyObject('org.projectatomic.rpmostree1', '/');
  const tx = obj.getInterface(TX);
  const props = obj.getInterface('org.freedesktop.DBus.Properties');
  const title = ((await props['Get']!(TX, 'Title')) as { value: unknown }).value;
  const signals: Received[] = [];
  const finished = new Promise<void>((resolve) => {
    for (const name of ['Message', 'TaskBegin', 'TaskEnd', 'PercentProgress', 'ProgressEnd', 'Finished']) {
      tx.on(name, (...args: unknown[]) => {
        signals.push({ name, args });
        if (name === 'Finished') resolve();
      });
    }
  });
  const started: unknown = await tx['Start']!();
  await finished;
  return { title, started, signals };
}

describe('src/dbus/peer (Node client <-> Node server)', () => {
  let dir: string;
  let server: PeerServer | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alt-peer-'));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a transaction: Title, Start, progress signals and Finished arrive in order', async () => {
    const t = await transactionServer(dir);
    server = t.server;
    expect(server.address).toMatch(/^unix:path=.*tx\.sock,guid=[0-9a-f]{32}$/);
    const bus = await connectPeer(server.address);
    try {
      const r = await followTransaction(bus);
      expect(r.title).toBe('node test transaction');
      expect(r.started).toBe(true);
      expect(r.signals.map((s) => s.name)).toEqual(['TaskBegin', 'Message', 'PercentProgress', 'TaskEnd', 'ProgressEnd', 'Finished']);
      expect(r.signals[2]!.args).toEqual(['Downloading', 42]);
      expect(r.signals[5]!.args).toEqual([true, '']);
      // Peer links carry no sender.
      expect(t.calls).toEqual(['Start:undefined']);
    } finally {
      bus.disconnect();
    }
  });

  it('maps a DBusMethodError thrown by an implementation to its D-Bus error name', async () => {
    const t = await transactionServer(dir);
    server = t.server;
    const bus = await connectPeer(server.address);
    try {
      const tx = (await bus.getProxyObject('x.y', '/')).getInterface(TX);
      const err: unknown = await tx['Cancel']!().then(
        () => null,
        (e: unknown) => e,
      );
      expect(remoteErrorInfo(err)).toEqual({ name: 'org.projectatomic.rpmostreed.Error.Failed', text: 'nothing to cancel' });
    } finally {
      bus.disconnect();
    }
  });

  it('disconnect() closes the socket so the server sees the client go', async () => {
    const t = await transactionServer(dir);
    server = t.server;
    const bus = await connectPeer(server.address);
    await bus.getProxyObject('x.y', '/');
    expect(t.buses).toHaveLength(1);
    const serverSide = whenClosed(t.buses[0]!);
    bus.disconnect();
    await serverSide;
    await whenClosed(bus);
  });

  it('fails a pending call with Disconnected when the server goes away mid-call', async () => {
    const t = await transactionServer(dir, { finish: false });
    server = t.server;
    const bus = await connectPeer(server.address);
    const tx = (await bus.getProxyObject('x.y', '/')).getInterface(TX);
    // Title read works, then the server vanishes while we wait for a reply to a call it never answers.
    let swallowed!: () => void;
    const arrived = new Promise<void>((r) => (swallowed = r));
    t.buses[0]!.addMethodHandler(() => {
      swallowed(); // swallow everything: no reply will come
      return true;
    });
    const pending = tx['Start']!().then(
      () => null,
      (e: unknown) => e,
    );
    await arrived;
    await server.close();
    server = undefined;
    expect(remoteErrorInfo(await pending)?.name).toBe('org.freedesktop.DBus.Error.Disconnected');
    // A call after the close fails at once instead of hanging.
    const after: unknown = await tx['Start']!().then(
      () => null,
      (e: unknown) => e,
    );
    expect(remoteErrorInfo(after)?.name).toBe('org.freedesktop.DBus.Error.Disconnected');
    bus.disconnect();
  });

  it('rejects a client claiming a uid the server does not accept', async () => {
    const errors: unknown[] = [];
    server = await listenPeer({ path: join(dir, 'tx.sock'), uid: 4242, onConnection: () => undefined, onError: (e) => errors.push(e), authTimeoutMs: 2000 });
    await expect(connectPeer(server.address, { timeoutMs: 3000 })).rejects.toMatchObject({ code: 'DBUS_CONNECT_FAILED' });
  });

  it('fails fast with a typed error when nobody listens at the address', async () => {
    await expect(connectPeer(`unix:path=${join(dir, 'nobody.sock')}`)).rejects.toMatchObject({ code: 'DBUS_CONNECT_FAILED' });
    await expect(connectPeer('unix:abstract=foo')).rejects.toMatchObject({ code: 'DBUS_BAD_ADDRESS' });
  });

  it('close() removes the socket file', async () => {
    const t = await transactionServer(dir);
    await t.server.close();
    await expect(stat(join(dir, 'tx.sock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
