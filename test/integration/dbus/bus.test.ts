import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, getConnectionUnixUser, getNameOwner, resolveBusAddress, uniqueName, watchNameOwner } from '../../../src/dbus/bus.js';
import { DBusMethodError, remoteErrorInfo } from '../../../src/dbus/errors.js';
import type { MessageBus } from '../../../src/dbus/peer.js';
import { interfaceFromXml, type CallInfo } from '../../../src/dbus/xml-interface.js';
import { startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';
import { RPMOSTREE_XML } from '../../helpers/glib-peer.js';

const NAME = 'org.projectatomic.rpmostree1';
const SYSROOT = 'org.projectatomic.rpmostree1.Sysroot';
const PATH = '/org/projectatomic/rpmostree1/Sysroot';

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

describe('src/dbus/bus + xml-interface on a private dbus-daemon', () => {
  let daemon: PrivateBus;
  let service: MessageBus;
  const calls: { member: string; args: unknown[]; call: CallInfo; uid: number }[] = [];

  beforeAll(async () => {
    daemon = await startPrivateBus();
    service = await connectBus({ address: daemon.address });
    const xml = await readFile(RPMOSTREE_XML, 'utf8');
    const iface = interfaceFromXml(xml, SYSROOT, {
      methods: {
        RegisterClient: async (args, call) => {
          const uid = await getConnectionUnixUser(service, call.sender!);
          calls.push({ member: 'RegisterClient', args, call, uid });
        },
        GetOS: ([name]) => {
          if (name !== '') throw new DBusMethodError('org.freedesktop.DBus.Error.InvalidArgs', `OS name "${String(name)}" not found`);
          return '/org/projectatomic/rpmostree1/altcos';
        },
        Reload: () => undefined,
      },
      getProperty: (name) => {
        switch (name) {
          case 'Booted': return '/org/projectatomic/rpmostree1/altcos';
          case 'Path': return '/';
          case 'ActiveTransaction': return ['', '', ''];
          case 'ActiveTransactionPath': return '';
          case 'AutomaticUpdatePolicy': return 'none';
          case 'Deployments': return [];
          default: return undefined;
        }
      },
    });
    iface.exportOn(service, PATH);
    await service.requestName(NAME, 0);
  });
  afterAll(async () => {
    service.disconnect();
    await daemon.stop();
  });

  it('resolves the system bus address from DBUS_SYSTEM_BUS_ADDRESS, an explicit address winning', () => {
    expect(resolveBusAddress({ env: { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/x' } })).toBe('unix:path=/x');
    expect(resolveBusAddress({ env: {} })).toBe('unix:path=/var/run/dbus/system_bus_socket');
    expect(resolveBusAddress({ address: 'unix:path=/y', env: { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/x' } })).toBe('unix:path=/y');
  });

  it('serves XML-declared methods and properties, with the caller sender and uid visible to the method', async () => {
    const client = await connectBus({ address: daemon.address });
    try {
      const obj = await client.getProxyObject(NAME, PATH);
      const sysroot = obj.getInterface(SYSROOT);
      await sysroot['RegisterClient']!({});
      expect(calls).toHaveLength(1);
      expect(calls[0]!.call.sender).toBe(uniqueName(client));
      expect(calls[0]!.uid).toBe(process.getuid!());
      expect(await sysroot['GetOS']!('')).toBe('/org/projectatomic/rpmostree1/altcos');
      const props = obj.getInterface('org.freedesktop.DBus.Properties');
      const all = (await props['GetAll']!(SYSROOT)) as Record<string, { signature: string; value: unknown }>;
      expect(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.signature]))).toEqual({
        Booted: 'o', Path: 's', ActiveTransaction: '(sss)', ActiveTransactionPath: 's', AutomaticUpdatePolicy: 's', Deployments: 'aa{sv}',
      });
    } finally {
      client.disconnect();
    }
  });

  it('answers NotSupported for declared but unimplemented methods and keeps thrown error names', async () => {
    const client = await connectBus({ address: daemon.address });
    try {
      const sysroot = (await client.getProxyObject(NAME, PATH)).getInterface(SYSROOT);
      expect(remoteErrorInfo(await errorOf(sysroot['ReloadConfig']!()))?.name).toBe('org.freedesktop.DBus.Error.NotSupported');
      expect(remoteErrorInfo(await errorOf(sysroot['GetOS']!('nope')))).toEqual({
        name: 'org.freedesktop.DBus.Error.InvalidArgs',
        text: 'OS name "nope" not found',
      });
    } finally {
      client.disconnect();
    }
  });

  it('introspects with the XML argument names (dbus-next alone drops them)', async () => {
    const client = await connectBus({ address: daemon.address });
    try {
      const obj = await client.getProxyObject(NAME, PATH);
      const intro = obj.getInterface('org.freedesktop.DBus.Introspectable');
      const xml = (await intro['Introspect']!()) as string;
      expect(xml).toContain('<arg name="options" type="a{sv}" direction="in"/>');
      expect(xml).toContain('<property name="ActiveTransaction" type="(sss)" access="read">');
    } finally {
      client.disconnect();
    }
  });

  it('reports name owners and their changes', async () => {
    const client = await connectBus({ address: daemon.address });
    try {
      expect(await getNameOwner(client, NAME)).toBe(uniqueName(service));
      expect(await getNameOwner(client, 'org.example.Nobody')).toBeNull();
      const owners: string[] = [];
      const stop = await watchNameOwner(client, 'org.example.Temp', (o) => owners.push(o));
      const other = await connectBus({ address: daemon.address });
      await other.requestName('org.example.Temp', 0);
      await other.releaseName('org.example.Temp');
      await client.getProxyObject(NAME, PATH); // round trip: signals before this reply have arrived
      expect(owners).toEqual([uniqueName(other), '']);
      stop();
      other.disconnect();
    } finally {
      client.disconnect();
    }
  });

  it('fails a pending call with Disconnected when the bus daemon dies', async () => {
    const d2 = await startPrivateBus();
    const a = await connectBus({ address: d2.address });
    const b = await connectBus({ address: d2.address });
    let swallowed!: () => void;
    const arrived = new Promise<void>((r) => (swallowed = r));
    b.addMethodHandler(() => {
      swallowed(); // never answers
      return true;
    });
    await b.requestName('org.example.B', 0);
    const obj = await a.getProxyObject('org.example.B', '/', '<node><interface name="org.example.B"><method name="Hang"/></interface></node>');
    const pending = errorOf(obj.getInterface('org.example.B')['Hang']!());
    await arrived;
    await d2.stop();
    expect(remoteErrorInfo(await pending)?.name).toBe('org.freedesktop.DBus.Error.Disconnected');
    a.disconnect();
    b.disconnect();
  });

  it('connectBus fails with a typed error when no daemon listens', async () => {
    await expect(connectBus({ address: 'unix:path=/nonexistent/bus.sock' })).rejects.toMatchObject({ code: 'DBUS_CONNECT_FAILED' });
  });
});
