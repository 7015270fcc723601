import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectPeer, listenPeer, type PeerServer } from '../../../src/dbus/peer.js';
import { interfaceFromXml, type XmlInterface } from '../../../src/dbus/xml-interface.js';
import { RPMOSTREE_XML, runGlibPeerClient, startGlibPeerServer, type GlibPeerServer } from '../../helpers/glib-peer.js';

const TX = 'org.projectatomic.rpmostree1.Transaction';

describe('src/dbus/peer against GLib (as rpm-ostree does it)', () => {
  let dir: string;
  let glib: GlibPeerServer | undefined;
  let server: PeerServer | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alt-glib-'));
  });
  afterEach(async () => {
    await glib?.stop();
    await server?.close();
    glib = undefined;
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('connectPeer drives a GLib GDBusServer transaction to Finished without errors', async () => {
    glib = await startGlibPeerServer(join(dir, 'tx.sock'));
    const errors: unknown[] = [];
    const bus = await connectPeer(glib.address, { onError: (e) => errors.push(e) });
    try {
      const obj = await bus.getProxyObject('org.projectatomic.rpmostree1', '/');
      const tx = obj.getInterface(TX);
      const title = (await obj.getInterface('org.freedesktop.DBus.Properties')['Get']!(TX, 'Title')) as { value: unknown };
      expect(title.value).toBe('glib test transaction');
      const seen: string[] = [];
      let progress: unknown[] = [];
      let download: unknown[] = [];
      const finished = new Promise<unknown[]>((resolve) => {
        for (const name of ['Message', 'TaskBegin', 'TaskEnd', 'PercentProgress', 'DownloadProgress', 'ProgressEnd']) {
          tx.on(name, (...args: unknown[]) => {
            seen.push(name);
            if (name === 'PercentProgress') progress = args;
            if (name === 'DownloadProgress') download = args;
          });
        }
        tx.on('Finished', (...args: unknown[]) => resolve(args));
      });
      expect(await tx['Start']!()).toBe(true);
      expect(await finished).toEqual([true, '']);
      expect(seen).toEqual(['TaskBegin', 'Message', 'PercentProgress', 'DownloadProgress', 'TaskEnd', 'ProgressEnd']);
      expect(progress).toEqual(['Downloading', 50]);
      expect(download[0]).toEqual([1n, 2n]);
      expect(download[3]).toEqual([8, 9, 10, 11n]);
      expect(errors).toEqual([]);
    } finally {
      bus.disconnect();
    }
    // The GLib side sees the connection close (we destroy the socket, not just half-close it).
    await glib.waitFor((e) => e['closed'] === true);
  });

  it('a GLib client (clientlib style) runs a transaction on our listenPeer server', async () => {
    const xml = await readFile(RPMOSTREE_XML, 'utf8');
    let iface: XmlInterface | undefined = undefined;
    iface = interfaceFromXml(xml, TX, {
      methods: {
        Start: () => {
          setImmediate(() => {
            iface!.emitSignal('TaskBegin', 'Pulling');
            iface!.emitSignal('Message', 'hi');
            iface!.emitSignal('PercentProgress', 'Downloading', 7);
            iface!.emitSignal('TaskEnd', 'done');
            iface!.emitSignal('ProgressEnd');
            iface!.emitSignal('Finished', true, '');
          });
          return true;
        },
      },
      getProperty: (n) => (n === 'Title' ? 'node tx' : n === 'InitiatingClientDescription' ? 'x' : undefined),
    });
    server = await listenPeer({ path: join(dir, 'node.sock'), onConnection: (bus) => iface.exportOn(bus, '/') });
    const r = await runGlibPeerClient(server.address);
    expect(r.unique_name).toBeNull();
    expect(server.address).toContain(`guid=${r.guid}`);
    expect(r.title).toBe('node tx');
    expect(r.started).toBe(true);
    expect(r.signals.map((s) => s.name)).toEqual(['TaskBegin', 'Message', 'PercentProgress', 'TaskEnd', 'ProgressEnd', 'Finished']);
    expect(r.signals.every((s) => s.sender === null)).toBe(true);
    expect(r.signals[5]!.args).toEqual([true, '']);
    expect(r.timeout).toBeUndefined();
  });
});
