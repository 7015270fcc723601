// Service-side dbus-next interfaces generated from introspection XML (no decorators): the backend
// builds rpm-ostree's Sysroot/OS/Transaction objects from the vendored XML, so the wire contract is
// the XML's by construction, and only the behaviour is hand-written.
import dbus from 'dbus-next';
import { guardCalls } from './call-guard.js';
import { DBusMethodError } from './errors.js';
import { parseIntrospectionXml, type IntrospectedInterface } from './introspection-xml.js';
import type { MessageBus } from './peer.js';
import { DBusAdapterError } from './errors.js';

const { Interface, ACCESS_READ, ACCESS_WRITE, ACCESS_READWRITE } = dbus.interface;

/** What a method implementation learns about the call besides its arguments. */
export interface CallInfo {
  /** Unique bus name of the caller (e.g. `:1.42`); undefined on peer-to-peer links. */
  readonly sender: string | undefined;
  /** Member name being called. */
  readonly member: string;
}

/**
 * A method implementation. `args` are dbus-next values in XML order (`v` = `{signature, value}`
 * Variant objects, `a{sv}` = plain objects of Variants, `t`/`x` = BigInt). Return the single out
 * value, an array for several out args, or undefined for none; may be async. Throw
 * {@link DBusMethodError} to answer with a named D-Bus error; any other throw becomes
 * `org.freedesktop.DBus.Error.Failed` with the error's message (no stack on the wire).
 */
export type MethodImpl = (args: unknown[], call: CallInfo) => unknown;

/** The behaviour behind a generated interface. */
export interface XmlInterfaceImpl {
  /** Implementations by D-Bus member name; members without one answer `NotSupported`. */
  readonly methods: Readonly<Record<string, MethodImpl>>;
  /** Current value of a readable property, as a dbus-next value of the XML type. */
  getProperty(name: string): unknown;
  /** Writes a writable property; absent = every write is refused with `PropertyReadOnly`. */
  setProperty?(name: string, value: unknown): void;
}

/** A generated interface, exportable on any number of buses / peer connections. */
export interface XmlInterface {
  /** D-Bus interface name. */
  readonly name: string;
  /** The parsed XML description it was generated from. */
  readonly spec: IntrospectedInterface;
  /** Exports it at `path` on `bus` and starts recording callers' senders there. */
  exportOn(bus: MessageBus, path: string): void;
  /** Removes it from `path` on `bus`. */
  unexportFrom(bus: MessageBus, path: string): void;
  /** Emits a signal on every bus it is exported on; args in XML order, types per the XML. */
  emitSignal(name: string, ...args: unknown[]): void;
  /** Emits `org.freedesktop.DBus.Properties.PropertiesChanged` with the given new values. */
  emitPropertiesChanged(changed: Readonly<Record<string, unknown>>, invalidated?: readonly string[]): void;
}

/** Error name for members the XML declares but the implementation does not provide. */
export const NOT_SUPPORTED = 'org.freedesktop.DBus.Error.NotSupported';

function toDBusError(err: unknown): dbus.DBusError {
  if (err instanceof dbus.DBusError) return err;
  if (err instanceof DBusMethodError) return new dbus.DBusError(err.errorName, err.message);
  return new dbus.DBusError('org.freedesktop.DBus.Error.Failed', err instanceof Error ? err.message : String(err));
}

function signalBody(args: unknown[]): unknown {
  if (args.length === 0) return undefined;
  return args.length === 1 ? args[0] : args;
}

/** xml2js-shaped introspection with argument names and annotations (dbus-next drops both). */
function introspectionOf(spec: IntrospectedInterface): object {
  const ann = (a: readonly { name: string; value: string }[]): object[] => a.map((x) => ({ $: { name: x.name, value: x.value } }));
  const arg = (a: { name: string | undefined; type: string; direction: string }, withDir: boolean): object => ({
    $: { ...(a.name !== undefined ? { name: a.name } : {}), type: a.type, ...(withDir ? { direction: a.direction } : {}) },
  });
  return {
    $: { name: spec.name },
    method: spec.methods.map((m) => ({ $: { name: m.name }, arg: m.args.map((a) => arg(a, true)), annotation: ann(m.annotations) })),
    property: spec.properties.map((p) => ({ $: { name: p.name, type: p.type, access: p.access }, annotation: ann(p.annotations) })),
    signal: spec.signals.map((s) => ({ $: { name: s.name }, arg: s.args.map((a) => arg(a, false)), annotation: ann(s.annotations) })),
  };
}

/**
 * Generates a dbus-next service interface for `ifaceName` from introspection XML and binds it to
 * `impl`. Throws DBusAdapterError when the XML does not declare that interface.
 */
export function interfaceFromXml(xml: string, ifaceName: string, impl: XmlInterfaceImpl): XmlInterface {
  const spec = parseIntrospectionXml(xml).find((i) => i.name === ifaceName);
  if (spec === undefined) {
    throw new DBusAdapterError('DBUS_BAD_INTERFACE_XML', `interface '${ifaceName}' is not declared in the XML`);
  }
  for (const name of Object.keys(impl.methods)) {
    if (!spec.methods.some((m) => m.name === name)) {
      throw new DBusAdapterError('DBUS_BAD_INTERFACE_XML', `implementation has method '${name}' that ${ifaceName} does not declare`);
    }
  }
  // The sender of the call being dispatched, written by each bus's method-handler hook right
  // before dbus-next dispatches synchronously to the generated method.
  let currentSender: string | undefined;

  class Generated extends Interface {}
  const proto = Generated.prototype as unknown as Record<string, unknown>;
  const methods: Record<string, dbus.interface.MethodOptions> = {};
  for (const m of spec.methods) {
    proto[m.name] = function (...args: unknown[]): Promise<unknown> {
      const call: CallInfo = { sender: currentSender, member: m.name };
      currentSender = undefined;
      const fn = impl.methods[m.name];
      return (async () => {
        if (fn === undefined) throw new DBusMethodError(NOT_SUPPORTED, `${ifaceName}.${m.name} is not supported by this service`);
        return fn(args, call);
      })().catch((err: unknown) => {
        throw toDBusError(err);
      });
    };
    methods[m.name] = { inSignature: m.inSignature, outSignature: m.outSignature };
  }
  const properties: Record<string, dbus.interface.PropertyOptions> = {};
  for (const p of spec.properties) {
    Object.defineProperty(proto, p.name, {
      get: () => {
        try {
          return impl.getProperty(p.name);
        } catch (err: unknown) {
          return toDBusError(err);
        }
      },
      set: (value: unknown) => {
        if (impl.setProperty === undefined) {
          throw new dbus.DBusError('org.freedesktop.DBus.Error.PropertyReadOnly', `${ifaceName}.${p.name} is read-only`);
        }
        try {
          impl.setProperty(p.name, value);
        } catch (err: unknown) {
          throw toDBusError(err);
        }
      },
    });
    const access = p.access === 'read' ? ACCESS_READ : p.access === 'write' ? ACCESS_WRITE : ACCESS_READWRITE;
    properties[p.name] = { signature: p.type, access };
  }
  const signals: Record<string, dbus.interface.SignalOptions> = {};
  for (const s of spec.signals) {
    proto[s.name] = (...args: unknown[]): unknown => signalBody(args);
    signals[s.name] = { signature: s.signature };
  }
  Generated.configureMembers({ properties, methods, signals });
  const introspection = introspectionOf(spec);
  proto['$introspect'] = (): object => introspection;

  const instance = new Generated(ifaceName);
  const hooks = new Map<MessageBus, { hook: (msg: dbus.Message) => boolean; paths: Set<string> }>();

  return {
    name: ifaceName,
    spec,
    exportOn(bus, path) {
      guardCalls(bus);
      let entry = hooks.get(bus);
      if (entry === undefined) {
        const paths = new Set<string>();
        const hook = (msg: dbus.Message): boolean => {
          if (paths.has(msg.path) && (msg.interface === ifaceName || !msg.interface)) currentSender = msg.sender;
          return false;
        };
        entry = { hook, paths };
        hooks.set(bus, entry);
        bus.addMethodHandler(hook);
      }
      entry.paths.add(path);
      bus.export(path, instance);
    },
    unexportFrom(bus, path) {
      bus.unexport(path, instance);
      const entry = hooks.get(bus);
      if (entry === undefined) return;
      entry.paths.delete(path);
      if (entry.paths.size === 0) {
        bus.removeMethodHandler(entry.hook);
        hooks.delete(bus);
      }
    },
    emitSignal(name, ...args) {
      const fn = proto[name];
      if (!spec.signals.some((s) => s.name === name) || typeof fn !== 'function') {
        throw new DBusAdapterError('DBUS_BAD_INTERFACE_XML', `${ifaceName} declares no signal '${name}'`);
      }
      (fn as (...a: unknown[]) => void).apply(instance, args);
    },
    emitPropertiesChanged(changed, invalidated = []) {
      Interface.emitPropertiesChanged(instance, { ...changed }, [...invalidated]);
    },
  };
}
