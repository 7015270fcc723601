import { AltError } from '../common/errors.js';

/** Every code of the D-Bus adapter errors (for the docs/reference/errors.md sync test). */
export const DBUS_ADAPTER_CODES = [
  'DBUS_BAD_ADDRESS',
  'DBUS_CONNECT_FAILED',
  'DBUS_AUTH_FAILED',
  'DBUS_LISTEN_FAILED',
  'DBUS_BAD_INTERFACE_XML',
  'DBUS_BAD_MESSAGE',
] as const;

/** Stable codes of the D-Bus adapter errors (see docs/development/dbus.md). */
export type DBusAdapterCode = (typeof DBUS_ADAPTER_CODES)[number];

/** A failure of the project's D-Bus plumbing (connecting, authenticating, listening, reading XML). */
export class DBusAdapterError extends AltError {
  constructor(code: DBusAdapterCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { kind: code.toLowerCase(), ...options });
  }
}

/** Error name sent by the bus (and synthesised by our adapter) when the connection went away. */
export const DISCONNECTED_ERROR = 'org.freedesktop.DBus.Error.Disconnected';

/**
 * A D-Bus error that an exported method (see xml-interface.ts) throws to answer the caller with a
 * named D-Bus error, e.g. `org.freedesktop.DBus.Error.AccessDenied`, without importing dbus-next.
 */
export class DBusMethodError extends Error {
  /** The D-Bus error name sent on the wire. */
  readonly errorName: string;

  constructor(errorName: string, message: string) {
    super(message);
    this.name = 'DBusMethodError';
    this.errorName = errorName;
  }
}

/** What a failed D-Bus call looked like on the wire: its error name and text, if it was a D-Bus error. */
export interface RemoteErrorInfo {
  /** The D-Bus error name, e.g. `org.freedesktop.DBus.Error.Failed`. */
  readonly name: string;
  /** The error text. */
  readonly text: string;
}

/**
 * Reads the D-Bus error name and text of a rejected call (dbus-next's `DBusError` has `type` and
 * `text`), or null when the failure was not a D-Bus error reply.
 */
export function remoteErrorInfo(err: unknown): RemoteErrorInfo | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { name?: unknown; type?: unknown; text?: unknown };
  if (e.name === 'DBusError' && typeof e.type === 'string') {
    return { name: e.type, text: typeof e.text === 'string' ? e.text : '' };
  }
  if (err instanceof DBusMethodError) return { name: err.errorName, text: err.message };
  return null;
}
