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
import { GARBAGE, rawClient, within } from '../../helpers/hostile-peer.js';

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
