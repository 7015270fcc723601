// Per-method authorisation: uid 0 always; others only for configured users and methods.
import { getConnectionUnixUser } from '../../dbus/bus.js';
import { DBusMethodError } from '../../dbus/errors.js';
import type { MessageBus } from '../../dbus/peer.js';
import type { CallInfo } from '../../dbus/xml-interface.js';
import { errorChain } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';

/** The D-Bus error every refusal gets. */
export const ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied';

/** What {@link authorize} needs. */
export interface AuthorizeDeps {
  readonly bus: MessageBus;
  readonly allowedUids: readonly number[];
  readonly methods: readonly string[];
  readonly logger: Logger;
}

/** Pure rule: may `uid` call `member`? */
export function isAllowed(uid: number, member: string, allowedUids: readonly number[], methods: readonly string[]): boolean {
  return uid === 0 || (allowedUids.includes(uid) && methods.includes(member));
}

/**
 * Resolves the caller's uid with the bus's GetConnectionUnixUser and throws AccessDenied unless
 * allowed; resolves with the uid (a transaction's socket is made connectable by it). An unknown
 * caller or a failed lookup is refused (fail closed).
 */
export async function authorize(deps: AuthorizeDeps, member: string, call: CallInfo): Promise<number> {
  const sender = call.sender;
  if (sender === undefined) throw new DBusMethodError(ACCESS_DENIED, `${member}: caller unknown`);
  let uid: number;
  try {
    uid = await getConnectionUnixUser(deps.bus, sender);
  } catch (err: unknown) {
    throw new DBusMethodError(ACCESS_DENIED, `${member}: cannot identify caller ${sender}: ${errorChain(err).join(': ')}`);
  }
  if (isAllowed(uid, member, deps.allowedUids, deps.methods)) return uid;
  deps.logger.warn({ member, uid, sender }, 'refused unauthorised caller');
  throw new DBusMethodError(ACCESS_DENIED, `${member} is not allowed for uid ${uid}`);
}
