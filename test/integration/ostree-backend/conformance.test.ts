// The wire contract: alt-ostreed's introspection equals the vendored rpm-ostree XML, and a strict GLib
// client (python3-gi, the way rpm-ostree's CLI works) can drive it through a whole transaction.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import dbus from 'dbus-next';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus } from '../../../src/dbus/bus.js';
import { parseIntrospectionXml, type IntrospectedInterface } from '../../../src/dbus/introspection-xml.js';
import type { MessageBus } from '../../../src/dbus/peer.js';
import { startBackend, type RunningBackend } from '../../helpers/alt-ostreed.js';
import type { PrivateBus } from '../../helpers/dbus-daemon.js';
import { BACKEND_REF, startBackendWorld, type BackendWorld } from '../../helpers/backend-world.js';
import { createRepo, type FixtureCommit } from '../../helpers/ostree-repo.js';
import type { TestSysroot } from '../../helpers/sysroot.js';

const run = promisify(execFile);
const XML = fileURLToPath(new URL('../../../src/ostree/rpmostree1.xml', import.meta.url));
const GLIB_CLIENT = fileURLToPath(new URL('./glib-rpmostree-client.py', import.meta.url));
const REF = BACKEND_REF;

/** Comparable shape: member names with their wire types and access. */
function shape(i: IntrospectedInterface): object {
  return {
    methods: i.methods.map((m) => `${m.name}(${m.inSignature})->(${m.outSignature})`).sort(),
    properties: i.properties.map((p) => `${p.name}:${p.type}:${p.access}`).sort(),
    signals: i.signals.map((s) => `${s.name}(${s.signature})`).sort(),
  };
}

async function introspect(bus: MessageBus, path: string): Promise<IntrospectedInterface[]> {
  const reply = await bus.call(
    new dbus.Message({ destination: 'org.projectatomic.rpmostree1', path, interface: 'org.freedesktop.DBus.Introspectable', member: 'Introspect' }),
  );
  return parseIntrospectionXml(String(reply?.body[0]));
}

describe('alt-ostreed wire conformance', () => {
  let bus: PrivateBus;
  let sysroot: TestSysroot;
  let world: BackendWorld | undefined;
  let daemon: RunningBackend;
  let client: MessageBus;
  const c: FixtureCommit[] = [];

  beforeAll(async () => {
    const repo = await createRepo();
    c.push(await repo.commit({ ref: REF, version: '1.0', timestamp: '2024-01-01 00:00:00' }));
    c.push(await repo.commit({ ref: REF, version: '1.1', timestamp: '2024-02-01 00:00:00' }));
    ({ sysroot, bus } = world = await startBackendWorld(repo, c[0]!.checksum));
    daemon = await startBackend({ busAddress: bus.address, sysroot });
    client = await connectBus({ address: bus.address });
  });

  afterAll(async () => {
    client?.disconnect();
    await daemon?.stop();
    await world?.close();
  });

  it('introspects exactly the XML interfaces on the Sysroot and OS objects', async () => {
    const reference = new Map(parseIntrospectionXml(await readFile(XML, 'utf8')).map((i) => [i.name, i]));
    const objects = {
      '/org/projectatomic/rpmostree1/Sysroot': ['org.projectatomic.rpmostree1.Sysroot'],
      '/org/projectatomic/rpmostree1/altcos': ['org.projectatomic.rpmostree1.OS', 'org.projectatomic.rpmostree1.OSExperimental'],
    };
    for (const [path, names] of Object.entries(objects)) {
      const served = new Map((await introspect(client, path)).map((i) => [i.name, i]));
      for (const name of names) {
        expect(served.has(name), `${path} serves ${name}`).toBe(true);
        expect(shape(served.get(name)!)).toEqual(shape(reference.get(name)!));
      }
    }
  });

  it('serves a strict GLib proxy and a GLib peer-to-peer transaction like rpm-ostree does', async () => {
    const { stdout } = await run('/usr/bin/python3', [GLIB_CLIENT, bus.address, XML, `revision=${c[1]!.checksum}`], {
      env: { ...process.env, G_DEBUG: 'fatal-warnings' },
      timeout: 90_000,
    });
    const r = JSON.parse(stdout) as Record<string, unknown>;
    expect(r).toMatchObject({
      typeErrors: [],
      booted: '/org/projectatomic/rpmostree1/altcos',
      activeTransaction: ['', '', ''],
      osPath: '/org/projectatomic/rpmostree1/altcos',
      osName: 'altcos',
      title: `rpm-ostree deploy --lock-finalization revision=${c[1]!.checksum}`,
      started: true,
      finished: { success: true, error: '' },
      deploymentsUpdated: true,
      idleAgain: true,
      firstDeployment: { checksum: c[1]!.checksum, staged: true, 'finalization-locked': true, booted: false },
      upgradeError: 'org.freedesktop.DBus.Error.NotSupported',
    });
    expect(r['signals']).toEqual(expect.arrayContaining(['Finished', 'Message', 'TaskBegin', 'TaskEnd']));
  });
});
