// Argument checking for every interface a bus exports: dbus-next dispatches a method only when the
// call's signature matches exactly and otherwise answers UnknownMethod, as if the member did not
// exist; and its Properties handler takes GetAll with any arguments at all. The D-Bus convention
// (GDBus, sd-bus) for a member that exists but got the wrong arguments is InvalidArgs. dbus-next
// also answers a Set of a read-only property twice (InvalidArgs, then a ServiceError carrying the
// setter's stack trace); that is refused here once, with PropertyReadOnly.
import dbus from 'dbus-next';
import { newErrorReply } from './connection.js';

/** The error a call with the wrong arguments gets. */
export const INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs';

/** Input signatures of the standard interfaces dbus-next answers itself, by `interface.member`. */
const STANDARD: Readonly<Record<string, string>> = {
  'org.freedesktop.DBus.Properties.Get': 'ss',
  'org.freedesktop.DBus.Properties.GetAll': 's',
  'org.freedesktop.DBus.Properties.Set': 'ssv',
  'org.freedesktop.DBus.Introspectable.Introspect': '',
  'org.freedesktop.DBus.Peer.Ping': '',
  'org.freedesktop.DBus.Peer.GetMachineId': '',
};

/** The error a write to a property without write access gets. */
export const PROPERTY_READ_ONLY = 'org.freedesktop.DBus.Error.PropertyReadOnly';

/** The parts of a dbus-next service Interface read here (`$methods`/`$properties` from configureMembers). */
interface ExportedInterface {
  $methods?: Record<string, { name: string; inSignature: string; disabled?: boolean }>;
  $properties?: Record<string, { name: string; access: string; disabled?: boolean }>;
}

/** The parts of dbus-next's MessageBus / ServiceObject internals read here. */
interface ExportedInterfaces {
  _serviceObjects: Record<string, { interfaces: Record<string, ExportedInterface> }>;
}

function exportedInterface(bus: dbus.MessageBus, path: string, iface: string): ExportedInterface | undefined {
  return (bus as unknown as ExportedInterfaces)._serviceObjects[path]?.interfaces[iface];
}

/** The refusal of a well-typed Properties.Set of a property that is not writable; null when writable or unknown. */
function readOnlyRefusal(bus: dbus.MessageBus, msg: dbus.Message): string | null {
  if (msg.interface !== 'org.freedesktop.DBus.Properties' || msg.member !== 'Set' || msg.signature !== 'ssv') return null;
  const [ifaceName, propName] = msg.body as [string, string];
  const props = Object.values(exportedInterface(bus, msg.path, ifaceName)?.$properties ?? {});
  const prop = props.find((p) => p.name === propName && p.disabled !== true);
  if (prop === undefined || prop.access === 'write' || prop.access === 'readwrite') return null;
  return `${ifaceName}.${propName} is read-only`;
}

/** The input signatures `member` accepts at `path`/`iface` on `bus`; null when no such member is exported. */
function expectedSignatures(bus: dbus.MessageBus, path: string, iface: string, member: string): string[] | null {
  const standard = STANDARD[`${iface}.${member}`];
  if (standard !== undefined) return [standard];
  const sigs = Object.values(exportedInterface(bus, path, iface)?.$methods ?? {})
    .filter((m) => m.name === member && m.disabled !== true)
    .map((m) => m.inSignature);
  return sigs.length > 0 ? sigs : null;
}

const guarded = new WeakSet<dbus.MessageBus>();

/**
 * Installs (once per bus) a method handler that runs before dbus-next's dispatch and answers
 * `org.freedesktop.DBus.Error.InvalidArgs` to a call of an exported or standard member whose
 * signature is not the declared one, and `PropertyReadOnly` to a Set of a property without write
 * access. Unknown members still get dbus-next's UnknownMethod. Every export goes through this:
 * xml-interface.ts calls it from `exportOn`, the agent's Updated1 service from its setup.
 */
export function guardCalls(bus: dbus.MessageBus): void {
  if (guarded.has(bus)) return;
  guarded.add(bus);
  bus.addMethodHandler((msg: dbus.Message): boolean => {
    if (typeof msg.interface !== 'string' || typeof msg.member !== 'string' || typeof msg.path !== 'string') return false;
    const expected = expectedSignatures(bus, msg.path, msg.interface, msg.member);
    const got = msg.signature ?? '';
    if (expected !== null && !expected.includes(got)) {
      bus.send(newErrorReply(msg, INVALID_ARGS, `${msg.interface}.${msg.member} takes arguments '${expected.join("' or '")}', got '${got}'`));
      return true;
    }
    const readOnly = readOnlyRefusal(bus, msg);
    if (readOnly === null) return false;
    bus.send(newErrorReply(msg, PROPERTY_READ_ONLY, readOnly));
    return true;
  });
}
