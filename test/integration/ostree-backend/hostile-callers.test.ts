// Local users and hostile input against the real alt-ostreed (issue 12): garbage on a transaction
// socket, another user connecting to (and cancelling) root's transaction, and calls with a wrong
// signature. The unprivileged user is uid/gid 65534 (nobody) through setpriv.
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import dbus from 'dbus-next';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectPeer, socketPathOf, type MessageBus } from '../../../src/dbus/peer.js';
import { startBackend, type RunningBackend } from '../../helpers/alt-ostreed.js';
import { BACKEND_REF, startBackendWorld, type BackendWorld } from '../../helpers/backend-world.js';
import type { PrivateBus } from '../../helpers/dbus-daemon.js';
import { GARBAGE, rawClient } from '../../helpers/hostile-peer.js';
import { createRepo, type FixtureCommit } from '../../helpers/ostree-repo.js';
import type { TestSysroot } from '../../helpers/sysroot.js';
import { asNobody, connectClient, NOBODY, opts, runTransaction, type Client } from './rpmostree-client.js';

const NAME = 'org.projectatomic.rpmostree1';
const SYSROOT = '/org/projectatomic/rpmostree1/Sysroot';
const OS = '/org/projectatomic/rpmostree1/altcos';
const INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs';
const PROPS = 'org.freedesktop.DBus.Properties';

/** Calls with a signature the member does not take: [label, path, interface, member, signature, body]. */
const WRONG_SIGNATURES: [string, string, string, string, string, unknown[]][] = [
  ['Properties.GetAll without arguments', SYSROOT, PROPS, 'GetAll', '', []],
  ['Properties.GetAll with an int', SYSROOT, PROPS, 'GetAll', 'i', [1]],
  ['Properties.GetAll with an extra argument', SYSROOT, PROPS, 'GetAll', 'ss', [`${NAME}.Sysroot`, 'x']],
  ['Properties.Get with one string', SYSROOT, PROPS, 'Get', 's', [`${NAME}.Sysroot`]],
  ['Properties.Set without a value', SYSROOT, PROPS, 'Set', 'ss', [`${NAME}.Sysroot`, 'Path']],
  ['Introspectable.Introspect with an argument', SYSROOT, 'org.freedesktop.DBus.Introspectable', 'Introspect', 's', ['x']],
  ['Peer.Ping with an argument', SYSROOT, 'org.freedesktop.DBus.Peer', 'Ping', 'u', [1]],
  ['Sysroot.GetOS with an int', SYSROOT, `${NAME}.Sysroot`, 'GetOS', 'i', [1]],
  ['Sysroot.RegisterClient without options', SYSROOT, `${NAME}.Sysroot`, 'RegisterClient', '', []],
  ['OS.Deploy without options', OS, `${NAME}.OS`, 'Deploy', 's', ['revision=x']],
  ['OSExperimental.Moo with a string', OS, `${NAME}.OSExperimental`, 'Moo', 's', ['x']],
];

/** The D-Bus error name a raw call gets (or 'answered'). */
async function rawCall(bus: MessageBus, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<string> {
  try {
    await bus.call(new dbus.Message({ destination: NAME, path, interface: iface, member, signature, body }));
    return 'answered';
  } catch (err: unknown) {
    return String((err as { type?: unknown }).type);
  }
}

const DEPLOY_OPTS = { 'lock-finalization': true, 'skip-branch-check': true, 'allow-downgrade': false };


describe('alt-ostreed against local users and hostile input', () => {
  let bus: PrivateBus;
  let sysroot: TestSysroot;
  let world: BackendWorld | undefined;
  let daemon: RunningBackend | null = null;
  let client: Client | null = null;
  const c: FixtureCommit[] = [];

  beforeAll(async () => {
    const repo = await createRepo();
    c.push(await repo.commit({ ref: BACKEND_REF, version: '1.0', timestamp: '2024-01-01 00:00:00' }));
    c.push(await repo.commit({ ref: BACKEND_REF, version: '1.1', timestamp: '2024-02-01 00:00:00' }));
    ({ sysroot, bus } = world = await startBackendWorld(repo, c[0]!.checksum));
  });

  afterEach(async () => {
    client?.close();
    client = null;
    await daemon?.stop();
    daemon = null;
    await sysroot.exec(['ostree', 'admin', 'undeploy', '0']).catch(() => undefined);
  });

  afterAll(async () => {
    await world?.close();
  });

  it('survives malformed messages on a transaction socket, closing only that connection', async () => {
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    client = await connectClient(bus.address);
    const address = String(await client.callOS('Deploy', `revision=${c[1]!.checksum}`, opts(DEPLOY_OPTS)));
    for (const bytes of Object.values(GARBAGE)) expect(await rawClient(socketPathOf(address), bytes)).toBe('closed');
    expect(daemon.child.exitCode).toBeNull();
    const r = await runTransaction(address);
    expect(r).toMatchObject({ started: true, success: true, error: '' });
    expect(await client.osPath()).toBe('/org/projectatomic/rpmostree1/altcos');
  });

  it("does not let another local user connect to root's transaction, so it cannot cancel it", async () => {
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    client = await connectClient(bus.address);
    const address = String(await client.callOS('Deploy', `revision=${c[1]!.checksum}`, opts(DEPLOY_OPTS)));
    // nobody can read the address (the bus policy allows properties) but not connect to it.
    const attempt = await asNobody(bus, 'cancel');
    expect(attempt.result).toBeUndefined();
    expect(attempt.error?.text).toMatch(/EACCES|permission denied/i);
    // The socket sits in a directory only root may list; the socket itself is root's, mode 0600.
    const sock = await stat(socketPathOf(address));
    expect({ uid: sock.uid, mode: sock.mode & 0o777 }).toEqual({ uid: 0, mode: 0o600 });
    const dir = await stat(dirname(socketPathOf(address)));
    expect({ uid: dir.uid, mode: dir.mode & 0o777 }).toEqual({ uid: 0, mode: 0o711 });
    const r = await runTransaction(address);
    expect(r).toMatchObject({ started: true, success: true, error: '' });
  });

  it('answers every call with a wrong signature on the bus with InvalidArgs', async () => {
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    client = await connectClient(bus.address);
    const got: Record<string, string> = {};
    for (const [what, path, iface, member, signature, body] of WRONG_SIGNATURES) got[what] = await rawCall(client.bus, path, iface, member, signature, body);
    expect(got).toEqual(Object.fromEntries(WRONG_SIGNATURES.map(([what]) => [what, INVALID_ARGS])));
    // The right signatures still work, and the daemon is still there.
    expect(await rawCall(client.bus, SYSROOT, PROPS, 'GetAll', 's', [`${NAME}.Sysroot`])).toBe('answered');
    expect(await rawCall(client.bus, SYSROOT, `${NAME}.Sysroot`, 'GetOS', 's', [''])).toBe('answered');
  });

  it('answers wrong signatures on the transaction peer link with InvalidArgs too', async () => {
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    client = await connectClient(bus.address);
    const address = String(await client.callOS('Deploy', `revision=${c[1]!.checksum}`, opts(DEPLOY_OPTS)));
    const peer = await connectPeer(address);
    try {
      expect(await rawCall(peer, '/', `${NAME}.Transaction`, 'Start', 's', ['x'])).toBe(INVALID_ARGS);
      expect(await rawCall(peer, '/', `${NAME}.Transaction`, 'Cancel', 'b', [true])).toBe(INVALID_ARGS);
      expect(await rawCall(peer, '/', PROPS, 'GetAll', '', [])).toBe(INVALID_ARGS);
    } finally {
      peer.disconnect();
    }
    expect(await runTransaction(address)).toMatchObject({ started: true, success: true });
  });

  it("answers another user's identical call busy instead of handing it a socket it cannot use", async () => {
    daemon = await startBackend({ busAddress: bus.address, sysroot, users: [String(NOBODY)], methods: ['GetOS', 'Deploy'] });
    client = await connectClient(bus.address);
    const address = String(await client.callOS('Deploy', `revision=${c[1]!.checksum}`, opts(DEPLOY_OPTS)));
    const joined = await asNobody(bus, 'deploy', c[1]!.checksum);
    expect(joined.error?.name).toBe('org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code26');
    expect(joined.error?.text).toMatch(/^Transaction in progress/);
    expect(await runTransaction(address)).toMatchObject({ started: true, success: true, error: '' });
  });

  it('hands a configured non-root caller a socket only it (and root) can connect to', async () => {
    daemon = await startBackend({ busAddress: bus.address, sysroot, users: [String(NOBODY)], methods: ['GetOS', 'Deploy'] });
    expect(await asNobody(bus, 'deploy', c[1]!.checksum)).toEqual({ result: { success: true, error: '' } });
    expect(daemon.output()).not.toMatch(/cannot|EACCES/);
  });
});
