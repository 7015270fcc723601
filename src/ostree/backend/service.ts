// alt-ostreed's D-Bus objects: Sysroot and one OS object per stateroot, generated from the vendored
// rpm-ostree XML; behaviour mirrors rpmostreed-{sysroot,os}.cxx for the implemented subset.
import dbus from 'dbus-next';
import { watchNameOwner } from '../../dbus/bus.js';
import { DBusMethodError } from '../../dbus/errors.js';
import type { MessageBus } from '../../dbus/peer.js';
import { interfaceFromXml, type CallInfo, type MethodImpl, type XmlInterface } from '../../dbus/xml-interface.js';
import type { Logger } from '../../common/logger.js';
import type { BackendConfig } from './config.js';
import type { HostDriver, HostSnapshot } from './driver.js';
import {
  InvalidRequest,
  UnsupportedRequest,
  cleanupRequest,
  deployRequest,
  finalizeRequest,
  rollbackRequest,
  transactionTitle,
  updateDeploymentRequest,
  type Options,
  type WorkRequest,
} from './requests.js';
import { osObjectPath } from './revision.js';
import { authorize } from './authorize.js';
import { osProperty, sysrootProperty } from './properties.js';
import type { BackendState } from './state.js';
import { Transaction } from './transaction.js';
import { argsKey, optionsFromArg } from './variants.js';

/** Well-known bus name. */
export const BUS_NAME = 'org.projectatomic.rpmostree1';
/** Sysroot object path. */
export const SYSROOT_PATH = '/org/projectatomic/rpmostree1/Sysroot';

const GIO = 'org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark';
/** rpm-ostree's busy error (G_IO_ERROR_BUSY through GLib's unmapped-GError encoding). */
export const BUSY_ERROR = `${GIO}.Code26`;
/** G_IO_ERROR_FAILED as GLib encodes it. */
export const FAILED_ERROR = `${GIO}.Code0`;
/** G_IO_ERROR_NOT_FOUND as GLib encodes it. */
export const NOT_FOUND_ERROR = `${GIO}.Code1`;
const NOT_SUPPORTED = 'org.freedesktop.DBus.Error.NotSupported';

/** A method call whose caller passed authorisation, with the uid the bus reported for it. */
type Caller = CallInfo & { readonly uid: number };

/** Everything the service needs (built by main.ts). */
export interface ServiceDeps {
  readonly bus: MessageBus;
  readonly xml: string;
  /** The host driver chosen at start-up (ostree or bootc). */
  readonly driver: HostDriver;
  readonly config: BackendConfig;
  /** Sysroot path reported in `Path`. */
  readonly sysrootPath: string;
  /** Extra OS to serve even without deployments (the `--osname` option). */
  readonly osname: string | null;
  /** Non-root uids granted `config.methods`. */
  readonly allowedUids: readonly number[];
  readonly logger: Logger;
  /** Runs the configured reboot command. */
  readonly reboot: () => Promise<void>;
}

/** The running service. */
export class BackendService {
  readonly #d: ServiceDeps;
  #state: BackendState = { deployments: [], booted: null, osnames: [] };
  #snapshot: HostSnapshot | null = null;
  #sysroot!: XmlInterface;
  readonly #os = new Map<string, XmlInterface>();
  #tx: { tx: Transaction; method: string; key: string; sender: string; ownerUid: number; osPath: string; title: string } | null = null;
  readonly #clients = new Map<string, { id: string; unwatch: () => void }>();
  #rebooting = false;

  constructor(deps: ServiceDeps) {
    this.#d = deps;
  }

  /** Reads the sysroot, exports the objects and takes the bus name. */
  async start(): Promise<void> {
    this.#apply(await this.#d.driver.status());
    const guard = (member: string, fn: MethodImpl): MethodImpl => (args, call) => this.#authorize(member, call).then(() => fn(args, call));
    this.#sysroot = interfaceFromXml(this.#d.xml, `${BUS_NAME}.Sysroot`, {
      methods: {
        RegisterClient: guard('RegisterClient', (args, call) => this.#register(call, optionsFromArg(args[0]))),
        UnregisterClient: guard('UnregisterClient', (_args, call) => this.#unregister(call.sender ?? '')),
        Reload: guard('Reload', () => this.reload()),
        ReloadConfig: guard('Reload', () => this.reload()),
        GetOS: guard('GetOS', (args) => this.#getOS(String(args[0]))),
      },
      getProperty: (name) => this.#sysrootProperty(name),
    });
    this.#sysroot.exportOn(this.#d.bus, SYSROOT_PATH);
    this.#syncOsObjects();
    const reply = await this.#d.bus.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE);
    if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) {
      throw new Error(`cannot own ${BUS_NAME} (reply ${String(reply)})`);
    }
  }

  /** Closes a running transaction and releases the name. */
  async stop(): Promise<void> {
    await this.#tx?.tx.close();
    for (const c of this.#clients.values()) c.unwatch();
  }

  #sysrootProperty(name: string): unknown {
    const tx = this.#tx;
    return sysrootProperty(name, {
      state: this.#state,
      sysrootPath: this.#d.sysrootPath,
      policy: this.#d.config.automaticUpdatePolicy,
      transaction: tx ? { method: tx.method, sender: tx.sender, osPath: tx.osPath, address: tx.tx.address } : null,
    });
  }

  #osProperty(osname: string, name: string): unknown {
    return osProperty(this.#state, osname, name);
  }

  #syncOsObjects(): void {
    const names = new Set(this.#state.osnames);
    if (this.#d.osname) names.add(this.#d.osname);
    for (const osname of names) {
      if (this.#os.has(osname)) continue;
      const iface = interfaceFromXml(this.#d.xml, `${BUS_NAME}.OS`, {
        methods: this.#osMethods(osname),
        getProperty: (name) => this.#osProperty(osname, name),
      });
      iface.exportOn(this.#d.bus, osObjectPath(osname));
      // OSExperimental exists on every OS object; none of its methods is implemented.
      interfaceFromXml(this.#d.xml, `${BUS_NAME}.OSExperimental`, { methods: {}, getProperty: () => undefined }).exportOn(
        this.#d.bus,
        osObjectPath(osname),
      );
      this.#os.set(osname, iface);
    }
  }

  #osMethods(osname: string): Record<string, MethodImpl> {
    const tx = (method: string, build: (args: unknown[]) => WorkRequest, titleOpts: (args: unknown[]) => Options): MethodImpl =>
      async (args, call) => {
        const uid = await this.#authorize(method, call);
        let req: WorkRequest;
        try {
          req = build(args);
        } catch (err: unknown) {
          if (err instanceof UnsupportedRequest) throw new DBusMethodError(NOT_SUPPORTED, err.message);
          if (err instanceof InvalidRequest) throw new DBusMethodError(FAILED_ERROR, err.message);
          throw err;
        }
        return this.#startTransaction(osname, method, args, { ...call, uid }, transactionTitle(method, titleOpts(args)), req);
      };
    return {
      Deploy: tx('Deploy', (a) => deployRequest(String(a[0]), optionsFromArg(a[1])), (a) => optionsFromArg(a[1])),
      UpdateDeployment: tx('UpdateDeployment', (a) => updateDeploymentRequest(optionsFromArg(a[0]), optionsFromArg(a[1])), (a) => optionsFromArg(a[1])),
      FinalizeDeployment: tx('FinalizeDeployment', (a) => finalizeRequest(optionsFromArg(a[0])), (a) => optionsFromArg(a[0])),
      Cleanup: tx('Cleanup', (a) => cleanupRequest(Array.isArray(a[0]) ? a[0].map(String) : []), () => ({})),
      Rollback: tx('Rollback', (a) => rollbackRequest(optionsFromArg(a[0])), (a) => optionsFromArg(a[0])),
    };
  }

  #authorize(member: string, call: CallInfo): Promise<number> {
    return authorize({ bus: this.#d.bus, allowedUids: this.#d.allowedUids, methods: this.#d.config.methods, logger: this.#d.logger }, member, call);
  }

  async #register(call: CallInfo, options: Options): Promise<void> {
    const sender = call.sender ?? '';
    const idv = options.id;
    const id = idv && idv.signature === 's' ? String(idv.value) : 'unknown';
    this.#clients.get(sender)?.unwatch();
    const unwatch = await watchNameOwner(this.#d.bus, sender, (owner) => {
      if (owner === '') void this.#unregister(sender);
    });
    this.#clients.set(sender, { id, unwatch });
    this.#d.logger.info({ client: id, sender }, 'client registered');
  }

  async #unregister(sender: string): Promise<void> {
    const c = this.#clients.get(sender);
    if (!c) return;
    c.unwatch();
    this.#clients.delete(sender);
    this.#d.logger.info({ client: c.id, sender }, 'client unregistered');
  }

  #getOS(name: string): string {
    const osname = name === '' ? (this.#state.booted?.osname ?? this.#d.osname) : name;
    if (osname && this.#os.has(osname)) return osObjectPath(osname);
    throw new DBusMethodError(NOT_FOUND_ERROR, `OS name "${name}" not found`);
  }

  /** Re-reads the sysroot and emits PropertiesChanged for what changed. */
  async reload(): Promise<void> {
    this.#update(await this.#d.driver.status());
  }

  #apply(snapshot: HostSnapshot): void {
    const bootedBefore = this.#state.booted?.id ?? null;
    this.#snapshot = snapshot;
    this.#state = snapshot.state;
    // A simulated reboot (test hook) that actually booted something else ends the "rebooting" state.
    if (this.#rebooting && (this.#state.booted?.id ?? null) !== bootedBefore) this.#rebooting = false;
  }

  #update(snapshot: HostSnapshot): void {
    const before = this.#snapshotProps();
    this.#apply(snapshot);
    this.#syncOsObjects();
    this.#emitChanges(before);
  }

  #snapshotProps(): Map<string, string> {
    const out = new Map<string, string>();
    const key = (v: unknown): string => argsKey([v]);
    for (const p of ['Booted', 'ActiveTransaction', 'ActiveTransactionPath', 'Deployments']) out.set(`S:${p}`, key(this.#sysrootProperty(p)));
    for (const os of this.#os.keys()) {
      for (const p of ['BootedDeployment', 'DefaultDeployment', 'RollbackDeployment']) out.set(`${os}:${p}`, key(this.#osProperty(os, p)));
    }
    return out;
  }

  #emitChanges(before: Map<string, string>): void {
    const after = this.#snapshotProps();
    const sysroot: Record<string, unknown> = {};
    const perOs = new Map<string, Record<string, unknown>>();
    for (const [k, v] of after) {
      if (before.get(k) === v) continue;
      const [scope, prop] = k.split(':') as [string, string];
      if (scope === 'S') sysroot[prop] = this.#sysrootProperty(prop);
      else {
        const rec = perOs.get(scope) ?? {};
        rec[prop] = this.#osProperty(scope, prop);
        perOs.set(scope, rec);
      }
    }
    if (Object.keys(sysroot).length > 0) this.#sysroot.emitPropertiesChanged(sysroot);
    for (const [os, rec] of perOs) this.#os.get(os)?.emitPropertiesChanged(rec);
  }

  // Transaction set-up is serialised: concurrent calls must see each other's transaction (join or
  // busy), and two set-ups must never share the socket path.
  #setup: Promise<unknown> = Promise.resolve();

  #startTransaction(osname: string, method: string, args: unknown[], call: Caller, title: string, req: WorkRequest): Promise<string> {
    const next = this.#setup.then(() => this.#createTransaction(osname, method, args, call, title, req));
    this.#setup = next.catch(() => undefined);
    return next;
  }

  async #createTransaction(osname: string, method: string, args: unknown[], call: Caller, title: string, req: WorkRequest): Promise<string> {
    const key = argsKey(args);
    const osPath = osObjectPath(osname);
    const active = this.#tx;
    if (active && !active.tx.executing) {
      // Finished already and only waiting for its peers to hang up (their disconnect can race the
      // next call on the bus socket): close it now instead of answering busy for up to 30 s.
      await active.tx.close();
    } else if (active) {
      // Joining hands out the socket: only its owner and root can connect to it, so another user's
      // identical call is busy like any other.
      const mayJoin = call.uid === 0 || call.uid === active.ownerUid;
      if (mayJoin && active.method === method && active.key === key && active.osPath === osPath) return active.tx.handOut();
      throw new DBusMethodError(BUSY_ERROR, `Transaction in progress: ${active.title}\n You can cancel the current transaction with \`rpm-ostree cancel\``);
    }
    if (this.#rebooting) throw new DBusMethodError(FAILED_ERROR, 'Reboot initiated, cannot start new transaction');
    const sender = call.sender ?? '';
    const before = this.#snapshotProps();
    const slot = { tx: null as Transaction | null };
    let outcome: HostSnapshot | null = null;
    let unwatch: (() => void) | null = null;
    const tx = await Transaction.create({
      xml: this.#d.xml,
      socketPath: this.#d.config.transactionSocket,
      ownerUid: call.uid,
      title,
      clientDescription: this.#clients.get(sender)?.id ?? sender,
      forceCloseMs: this.#d.config.forceCloseSecs * 1000,
      logger: this.#d.logger.child({ transaction: title }),
      work: async (progress, signal) => {
        outcome = await this.#d.driver.run(
          {
            osname,
            progress,
            signal,
            snapshot: this.#snapshot ?? (await this.#d.driver.status()),
            reboot: async () => {
              this.#rebooting = true;
              try {
                await this.#d.reboot();
              } catch (err: unknown) {
                this.#rebooting = false;
                throw err;
              }
            },
          },
          req,
        );
      },
      afterWork: async () => {
        unwatch?.();
        // The last mutation's own status read is the new state; otherwise (failure, reboot) re-read.
        if (outcome) this.#update(outcome);
        else await this.reload();
      },
      onClosed: () => {
        if (this.#tx?.tx !== slot.tx) return;
        const prev = this.#snapshotProps();
        this.#tx = null;
        this.#emitChanges(prev);
      },
    });
    slot.tx = tx;
    this.#tx = { tx, method, key, sender, ownerUid: call.uid, osPath, title };
    this.#d.logger.info({ method, sender, title }, 'transaction created');
    // rpm-ostree cancels a transaction whose caller leaves the bus before calling Start.
    if (sender) {
      unwatch = await watchNameOwner(this.#d.bus, sender, (owner) => {
        if (owner === '') tx.abandon('client disconnected before calling Start');
      }).catch(() => null);
    }
    this.#emitChanges(before);
    return tx.handOut();
  }
}
