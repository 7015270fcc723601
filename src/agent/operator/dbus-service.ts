// Exports org.altlinux.Updated1 (docs/org.altlinux.Updated1.xml) with dbus-next, no decorators.
// dbus-next types stay in this file: the agent hands in an `OperatorPort` and gets back a handle.
//
// Method calls are root-only twice over: the bus policy denies them to others, and here we ask the
// bus for the caller's uid, since a misinstalled or permissive policy must not open reboots to
// everyone. dbus-next does not pass the sender to interface methods, so a method handler installed
// on the bus records `msg.sender`; dbus-next runs it and then the interface dispatch synchronously
// for the same message, so the method reads the sender of its own call.
import dbus, { type Message, type MessageBus } from 'dbus-next';
import { AltError, errorChain } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { guardCalls } from '../../dbus/call-guard.js';
import { DbusServiceError } from './errors.js';
import type { AgentSnapshot, OperatorPort } from './snapshot.js';

/** Well-known bus name, object path and interface name. */
export const UPDATED1 = { name: 'org.altlinux.Updated1', path: '/org/altlinux/Updated1', iface: 'org.altlinux.Updated1' } as const;

/** D-Bus error name for failed method calls. */
export const UPDATED1_ERROR_FAILED = 'org.altlinux.Updated1.Error.Failed';

/** D-Bus property values, in the wire encoding described in the XML (strings never null). */
export interface Updated1Properties {
  /** Agent state kind. */
  State: string;
  /** Booted version or "". */
  BootedVersion: string;
  /** Booted checksum or "". */
  BootedChecksum: string;
  /** Target version or "". */
  TargetVersion: string;
  /** Staged version or "". */
  StagedVersion: string;
  /** Unix seconds of the last check, 0 for never. */
  LastCheckTime: number;
  /** Strategy label. */
  Strategy: string;
  /** Human status line. */
  StatusText: string;
  /** This boot's health verdict or "". */
  HealthVerdict: string;
  /** Checks that did not pass in that verdict's run: (name, output tail). */
  HealthFailedChecks: [string, string][];
}

/** Encodes a snapshot as D-Bus property values (null -> "" or 0). */
export function toProperties(s: AgentSnapshot): Updated1Properties {
  return {
    State: s.state,
    BootedVersion: s.bootedVersion ?? '',
    BootedChecksum: s.bootedChecksum ?? '',
    TargetVersion: s.targetVersion ?? '',
    StagedVersion: s.stagedVersion ?? '',
    LastCheckTime: s.lastCheckTimeMs === null ? 0 : Math.floor(s.lastCheckTimeMs / 1000),
    Strategy: s.strategy,
    StatusText: s.statusText,
    HealthVerdict: s.healthVerdict ?? '',
    HealthFailedChecks: s.healthFailedChecks.map((c) => [c.name, c.outputTail]),
  };
}

/** The properties whose values differ between two encodings. */
export function changedProperties(prev: Updated1Properties, next: Updated1Properties): Partial<Updated1Properties> {
  const out: Record<string, unknown> = {};
  // Values are strings, numbers and one array of string pairs: JSON equality is exact for them.
  for (const k of Object.keys(next) as (keyof Updated1Properties)[]) if (JSON.stringify(prev[k]) !== JSON.stringify(next[k])) out[k] = next[k];
  return out as Partial<Updated1Properties>;
}

/** Options for {@link startOperatorService}. */
export interface OperatorServiceOptions {
  /** Bus address; null = the system bus (`DBUS_SYSTEM_BUS_ADDRESS` honoured). */
  readonly busAddress: string | null;
  /** The agent. */
  readonly port: OperatorPort;
  /** Logger for calls and failures. */
  readonly logger: Logger;
  /** Uids allowed to call methods. @default [0] */
  readonly allowedUids?: readonly number[];
}

/** A running service. */
export interface OperatorService {
  /** Re-reads the snapshot and emits PropertiesChanged for what changed; call after each tick. */
  publish(): void;
  /** Releases the name and disconnects. */
  close(): Promise<void>;
}

type Caller = (sender: string) => Promise<void>;

class Updated1Interface extends dbus.interface.Interface {
  readonly #port: OperatorPort;
  readonly #authorize: Caller;
  readonly #takeSender: () => string;
  readonly #log: Logger;

  constructor(port: OperatorPort, authorize: Caller, takeSender: () => string, log: Logger) {
    super(UPDATED1.iface);
    this.#port = port;
    this.#authorize = authorize;
    this.#takeSender = takeSender;
    this.#log = log;
  }

  #props(): Updated1Properties {
    return toProperties(this.#port.snapshot());
  }

  get State(): string { return this.#props().State; }
  get BootedVersion(): string { return this.#props().BootedVersion; }
  get BootedChecksum(): string { return this.#props().BootedChecksum; }
  get TargetVersion(): string { return this.#props().TargetVersion; }
  get StagedVersion(): string { return this.#props().StagedVersion; }
  get LastCheckTime(): number { return this.#props().LastCheckTime; }
  get Strategy(): string { return this.#props().Strategy; }
  get StatusText(): string { return this.#props().StatusText; }
  get HealthVerdict(): string { return this.#props().HealthVerdict; }
  get HealthFailedChecks(): [string, string][] { return this.#props().HealthFailedChecks; }

  CheckNow(): Promise<void> {
    return this.#call('CheckNow', () => this.#port.checkNow());
  }

  UpdateNow(): Promise<void> {
    return this.#call('UpdateNow', () => this.#port.updateNow());
  }

  async #call(method: string, run: () => Promise<void>): Promise<void> {
    const sender = this.#takeSender(); // synchronous, before any await: see the file comment
    await this.#authorize(sender);
    this.#log.info({ method, sender }, `D-Bus request ${method} from ${sender}`);
    try {
      await run();
    } catch (err: unknown) {
      this.#log.warn({ method, err: errorChain(err) }, `D-Bus request ${method} failed: ${errorChain(err).join(': ')}`);
      const text = err instanceof AltError ? `${err.code}: ${err.message}` : `INTERNAL: ${err instanceof Error ? err.message : String(err)}`;
      throw new dbus.DBusError(UPDATED1_ERROR_FAILED, text);
    }
  }
}

Updated1Interface.configureMembers({
  properties: Object.fromEntries(
    ['State', 'BootedVersion', 'BootedChecksum', 'TargetVersion', 'StagedVersion', 'LastCheckTime', 'Strategy', 'StatusText', 'HealthVerdict', 'HealthFailedChecks'].map((n) => [
      n,
      { signature: n === 'LastCheckTime' ? 't' : n === 'HealthFailedChecks' ? 'a(ss)' : 's', access: 'read' as const },
    ]),
  ),
  methods: { CheckNow: { inSignature: '', outSignature: '' }, UpdateNow: { inSignature: '', outSignature: '' } },
});

/** Asks the bus daemon for the uid behind a unique name. */
async function callerUid(bus: MessageBus, sender: string): Promise<number> {
  const reply = await bus.call(
    new dbus.Message({
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'GetConnectionUnixUser',
      signature: 's',
      body: [sender],
    }),
  );
  const uid: unknown = reply?.body[0];
  if (typeof uid !== 'number') throw new Error(`GetConnectionUnixUser(${sender}) returned ${String(uid)}`);
  return uid;
}

/** Connects, exports the interface and owns the name; throws {@link DbusServiceError}. */
export async function startOperatorService(opts: OperatorServiceOptions): Promise<OperatorService> {
  const log = opts.logger.child({ component: 'operator.dbus' });
  const allowed = opts.allowedUids ?? [0];
  const bus = opts.busAddress === null ? dbus.systemBus() : dbus.sessionBus({ busAddress: opts.busAddress });
  // dbus-next re-throws a failed Hello inside a promise; an 'error' listener keeps it observable.
  const failed = new Promise<never>((_, reject) => bus.once('error', (e: unknown) => reject(e instanceof Error ? e : new Error(String(e)))));
  failed.catch(() => undefined);
  bus.on('error', (e: unknown) => log.error({ err: String(e) }, 'D-Bus connection error'));

  let lastSender = '';
  const recordSender = (msg: Message): boolean => {
    if (msg.path === UPDATED1.path) lastSender = msg.sender;
    return false; // let dbus-next's normal dispatch handle it
  };
  bus.addMethodHandler(recordSender);
  guardCalls(bus); // wrong signatures: InvalidArgs, before dispatch (as for every export)

  const authorize = async (sender: string): Promise<void> => {
    let uid: number;
    try {
      uid = await callerUid(bus, sender);
    } catch (err: unknown) {
      log.warn({ sender, err: String(err) }, 'cannot identify D-Bus caller; refusing');
      throw new dbus.DBusError('org.freedesktop.DBus.Error.AccessDenied', 'cannot identify the caller');
    }
    if (!allowed.includes(uid)) {
      log.warn({ sender, uid }, `refused D-Bus method call from uid ${uid}`);
      throw new dbus.DBusError('org.freedesktop.DBus.Error.AccessDenied', `uid ${uid} may not call ${UPDATED1.iface} methods (root only)`);
    }
  };

  const iface = new Updated1Interface(opts.port, authorize, () => lastSender, log);
  let last = toProperties(opts.port.snapshot());
  try {
    bus.export(UPDATED1.path, iface);
    const reply = await Promise.race([bus.requestName(UPDATED1.name, dbus.NameFlag.DO_NOT_QUEUE), failed]);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) {
      throw new Error(`name already owned by another process (reply ${reply})`);
    }
  } catch (err: unknown) {
    bus.disconnect();
    throw new DbusServiceError(`failed to export ${UPDATED1.name} on the ${opts.busAddress ?? 'system'} bus`, err);
  }

  return {
    publish: () => {
      const next = toProperties(opts.port.snapshot());
      const changed = changedProperties(last, next);
      last = next;
      if (Object.keys(changed).length > 0) dbus.interface.Interface.emitPropertiesChanged(iface, changed, []);
    },
    close: async () => {
      bus.removeMethodHandler(recordSender);
      try {
        await bus.releaseName(UPDATED1.name);
      } catch {
        // Disconnecting releases it anyway.
      }
      bus.disconnect();
    },
  };
}
