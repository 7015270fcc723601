// Client side of org.altlinux.Updated1, for alt-updatectl. Low-level calls (no introspection round
// trip) and strict decoding of the reply: a property of the wrong type is a typed error, not a crash.
import dbus, { type MessageBus } from 'dbus-next';
import type { StrategyLabel } from '../../config/types.js';
import { DbusClientError } from './errors.js';
import { UPDATED1 } from './dbus-service.js';
import type { AgentSnapshot } from './snapshot.js';

/** A connection to the agent's D-Bus interface. */
export interface Updated1Client {
  /** Reads all properties as a snapshot. */
  snapshot(): Promise<AgentSnapshot>;
  /** Calls CheckNow (root only). */
  checkNow(): Promise<void>;
  /** Calls UpdateNow (root only). */
  updateNow(): Promise<void>;
  /** Disconnects. */
  close(): void;
}

const STRATEGIES: readonly string[] = ['immediate', 'periodic', 'fleet_lock'] satisfies StrategyLabel[];

/** Decodes a `GetAll` reply (`a{sv}` as dbus-next gives it) into a snapshot; throws `bad_reply`. */
export function decodeProperties(raw: unknown): AgentSnapshot {
  if (typeof raw !== 'object' || raw === null) throw new DbusClientError('bad_reply', 'GetAll reply is not a dictionary');
  const dict = raw as Record<string, { signature?: unknown; value?: unknown } | undefined>;
  const str = (name: string): string => {
    const v = dict[name];
    if (v?.signature !== 's' || typeof v.value !== 'string') throw new DbusClientError('bad_reply', `property ${name}: expected a string`);
    return v.value;
  };
  const opt = (name: string): string | null => (str(name) === '' ? null : str(name));
  const t = dict.LastCheckTime;
  if (t?.signature !== 't' || (typeof t.value !== 'bigint' && typeof t.value !== 'number')) {
    throw new DbusClientError('bad_reply', 'property LastCheckTime: expected uint64');
  }
  const lastCheck = Number(t.value);
  // The health properties are newer than the others: an older agent's reply lacks them.
  const verdict = dict.HealthVerdict === undefined ? '' : str('HealthVerdict');
  const checks = dict.HealthFailedChecks;
  const pairs = checks === undefined ? [] : checks.value;
  const isPair = (p: unknown): p is [string, string] => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string';
  if ((checks !== undefined && checks.signature !== 'a(ss)') || !Array.isArray(pairs) || !pairs.every(isPair)) {
    throw new DbusClientError('bad_reply', 'property HealthFailedChecks: expected an array of (name, output) string pairs');
  }
  const strategy = str('Strategy');
  if (!STRATEGIES.includes(strategy)) throw new DbusClientError('bad_reply', `property Strategy: unknown strategy '${strategy}'`);
  return {
    state: str('State'),
    bootedVersion: opt('BootedVersion'),
    bootedChecksum: opt('BootedChecksum'),
    targetVersion: opt('TargetVersion'),
    stagedVersion: opt('StagedVersion'),
    lastCheckTimeMs: lastCheck === 0 ? null : lastCheck * 1000,
    strategy: strategy as StrategyLabel,
    statusText: str('StatusText'),
    healthVerdict: verdict === '' ? null : verdict,
    healthFailedChecks: pairs.map(([name, outputTail]) => ({ name, outputTail })),
  };
}

function translate(err: unknown): DbusClientError {
  if (err instanceof DbusClientError) return err;
  const type = (err as { type?: unknown }).type;
  const text = (err as { text?: unknown }).text;
  const detail = typeof text === 'string' ? text : err instanceof Error ? err.message : String(err);
  if (type === 'org.freedesktop.DBus.Error.ServiceUnknown' || type === 'org.freedesktop.DBus.Error.NameHasNoOwner') {
    return new DbusClientError('not_running', `the agent is not running (${UPDATED1.name} has no owner)`, err);
  }
  if (type === 'org.freedesktop.DBus.Error.AccessDenied') return new DbusClientError('access_denied', `access denied: ${detail}`, err);
  return new DbusClientError('failed', detail, err);
}

/** Connects to the bus (null = system bus, `DBUS_SYSTEM_BUS_ADDRESS` honoured). */
export function connectUpdated1(opts: { busAddress: string | null }): Updated1Client {
  const where = opts.busAddress ?? 'system';
  let bus: MessageBus;
  try {
    bus = opts.busAddress === null ? dbus.systemBus() : dbus.sessionBus({ busAddress: opts.busAddress });
  } catch (err: unknown) {
    throw new DbusClientError('no_bus', `cannot connect to the ${where} bus`, err);
  }
  // A refused connection surfaces as an 'error' event while calls stay pending: race them.
  const broken = new Promise<never>((_, reject) =>
    bus.on('error', (e: unknown) => reject(new DbusClientError('no_bus', `cannot connect to the ${where} bus: ${e instanceof Error ? e.message : String(e)}`, e))),
  );
  broken.catch(() => undefined);

  const call = async (iface: string, member: string, signature = '', body: unknown[] = []): Promise<unknown[]> => {
    const msg = new dbus.Message({ destination: UPDATED1.name, path: UPDATED1.path, interface: iface, member, signature, body });
    try {
      const reply = await Promise.race([bus.call(msg), broken]);
      return reply?.body ?? [];
    } catch (err: unknown) {
      throw translate(err);
    }
  };

  return {
    snapshot: async () => decodeProperties((await call('org.freedesktop.DBus.Properties', 'GetAll', 's', [UPDATED1.iface]))[0]),
    checkNow: async () => void (await call(UPDATED1.iface, 'CheckNow')),
    updateNow: async () => void (await call(UPDATED1.iface, 'UpdateNow')),
    close: () => bus.disconnect(),
  };
}
