// A minimal rpm-ostree client for the backend tests (dbus-next + the project's peer adapter), doing
// what rpm-ostree's CLI does: properties over the bus, then Start on the peer link until Finished.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import dbus from 'dbus-next';
import { connectBus } from '../../../src/dbus/bus.js';
import { whenClosed } from '../../../src/dbus/connection.js';
import { connectPeer, type MessageBus } from '../../../src/dbus/peer.js';
import type { PrivateBus } from '../../helpers/dbus-daemon.js';

const NAME = 'org.projectatomic.rpmostree1';

/** Plain JS view of a deployment dict (variants unwrapped). */
export type Dict = Record<string, unknown>;

function unwrap(v: unknown): unknown {
  if (v instanceof dbus.Variant) return unwrap(v.value);
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === 'object' && !(v instanceof Buffer)) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}

/** A bus connection to alt-ostreed. */
export interface Client {
  readonly bus: MessageBus;
  sysrootProp(name: string): Promise<unknown>;
  deployments(): Promise<Dict[]>;
  osPath(name?: string): Promise<string>;
  osProp(name: string): Promise<unknown>;
  /** Calls an OS method; resolves with its first out value. */
  callOS(method: string, ...args: unknown[]): Promise<unknown>;
  callSysroot(method: string, ...args: unknown[]): Promise<unknown>;
  close(): void;
}

/** Connects to the bus and to alt-ostreed's Sysroot object. */
export async function connectClient(address: string): Promise<Client> {
  const bus = await connectBus({ address });
  const sysroot = await bus.getProxyObject(NAME, '/org/projectatomic/rpmostree1/Sysroot');
  const props = sysroot.getInterface('org.freedesktop.DBus.Properties');
  const sys = sysroot.getInterface(`${NAME}.Sysroot`);
  const osPath = async (name = ''): Promise<string> => String(await sys.GetOS!(name));
  const osObj = async (): Promise<dbus.ProxyObject> => bus.getProxyObject(NAME, await osPath());
  return {
    bus,
    sysrootProp: async (name) => unwrap(await props.Get!(`${NAME}.Sysroot`, name)),
    deployments: async () => unwrap(await props.Get!(`${NAME}.Sysroot`, 'Deployments')) as Dict[],
    osPath,
    osProp: async (name) => unwrap(await (await osObj()).getInterface('org.freedesktop.DBus.Properties').Get!(`${NAME}.OS`, name)),
    callOS: async (method, ...args) => (await osObj()).getInterface(`${NAME}.OS`)[method]!(...args) as Promise<unknown>,
    callSysroot: async (method, ...args) => sys[method]!(...args) as Promise<unknown>,
    close: () => bus.disconnect(),
  };
}

/** Outcome of a transaction. */
export interface TxResult {
  readonly started: boolean;
  readonly success: boolean;
  readonly error: string;
  readonly messages: string[];
  readonly title: string;
}

/** Connects to a transaction address, calls Start, waits for Finished, disconnects. */
export async function runTransaction(
  address: string,
  opts: { beforeStart?: (tx: dbus.ClientInterface) => Promise<void>; afterStart?: (tx: dbus.ClientInterface) => Promise<void> } = {},
): Promise<TxResult> {
  const peer = await connectPeer(address);
  try {
    const obj = await peer.getProxyObject(NAME, '/');
    const tx = obj.getInterface(`${NAME}.Transaction`);
    const title = String(unwrap(await obj.getInterface('org.freedesktop.DBus.Properties').Get!(`${NAME}.Transaction`, 'Title')));
    const messages: string[] = [];
    tx.on('Message', (m: string) => messages.push(m));
    const finished = new Promise<{ success: boolean; error: string }>((resolve) =>
      tx.on('Finished', (success: boolean, error: string) => resolve({ success, error })),
    );
    await opts.beforeStart?.(tx);
    const started = Boolean(await tx.Start!());
    const closed = whenClosed(peer).then(() => {
      throw new Error('transaction peer closed before Finished');
    });
    await opts.afterStart?.(tx);
    const r = await Promise.race([finished, closed]);
    return { started, ...r, messages, title };
  } finally {
    peer.disconnect();
  }
}

/** `a{sv}` argument builder: booleans as `b`, strings as `s`. */
export function opts(o: Record<string, boolean | string>): Record<string, dbus.Variant> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, new dbus.Variant(typeof v === 'boolean' ? 'b' : 's', v)]));
}

/** The D-Bus error name and text of a rejected call. */
export async function dbusError(p: Promise<unknown>): Promise<{ name: string; text: string }> {
  try {
    await p;
  } catch (err: unknown) {
    const e = err as { type?: string; text?: string; message?: string };
    return { name: e.type ?? 'none', text: e.text ?? e.message ?? '' };
  }
  throw new Error('call unexpectedly succeeded');
}

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('./call-as-user.mjs', import.meta.url));

/** The unprivileged uid/gid the authorisation suites call as (nobody). */
export const NOBODY = 65534;

/** Runs call-as-user.mjs as uid/gid {@link NOBODY} (`setpriv`) and parses its JSON line. */
export async function asNobody(bus: PrivateBus, ...args: string[]): Promise<{ result?: unknown; error?: { name: string; text: string } }> {
  const { stdout } = await run(
    'setpriv',
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, SCRIPT, ...args],
    { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: bus.address }, cwd: '/' },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as { result?: unknown; error?: { name: string; text: string } };
}
