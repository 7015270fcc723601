// The agent's rpm-ostree port over D-Bus: Sysroot/OS objects on the system bus, transactions on
// private peer sockets. Connects lazily and reconnects after the bus or the backend went away.
import dbus from 'dbus-next';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { Release } from '../../graph/release.js';
import { connectBus, getNameOwner, watchNameOwner } from '../../dbus/bus.js';
import { isClosed } from '../../dbus/connection.js';
import type { MessageBus } from '../../dbus/peer.js';
import { imagePayloadDigest, stagedMismatch, type Deployment, type DeploymentSet } from '../deployment.js';
import { OstreeBadReplyError, OstreeClientError, OstreeStageMismatchError } from './errors.js';
import { parseDeploymentSet } from './parse.js';
import { classifyCallError, DEFAULT_BUSY_RETRY, withBusyRetry, type BusyRetryPolicy } from './remote-errors.js';
import { followTransaction, type TransactionDeps } from './transaction.js';

const { Variant } = dbus;

/** Well-known name of rpm-ostreed (and of alt-ostreed). */
export const RPMOSTREE_BUS_NAME = 'org.projectatomic.rpmostree1';
const SYSROOT_PATH = '/org/projectatomic/rpmostree1/Sysroot';
const SYSROOT_IFACE = 'org.projectatomic.rpmostree1.Sysroot';
const OS_IFACE = 'org.projectatomic.rpmostree1.OS';
const PROPS_IFACE = 'org.freedesktop.DBus.Properties';
const HEX64 = /^[0-9a-f]{64}$/;

/** Options of {@link createOstreeClient}. */
export interface OstreeClientOptions {
  /** Injected time (busy backoff, transaction timeouts). */
  readonly clock: Clock;
  /** Logger; transaction progress goes here at debug/info. */
  readonly logger: Logger;
  /** Explicit bus address (tests); default `DBUS_SYSTEM_BUS_ADDRESS` or the system bus socket. */
  readonly busAddress?: string;
  /** `RegisterClient` id (default `alt-updated`). */
  readonly clientId?: string;
  /** Update-driver name used by registerDriver() (default `alt-updated`). */
  readonly driverName?: string;
  /** Stateroot to manage (default: the booted OS, else the first deployment's). */
  readonly osname?: string;
  /** First component of origin refs streams are parsed from (default `altcos`). */
  readonly streamPrefix?: string;
  /** Deadline for one transaction (pull + deploy), ms (default 1 h). */
  readonly transactionTimeoutMs?: number;
  /** Deadline for a plain method call, ms (default 60 s). */
  readonly callTimeoutMs?: number;
  /** Busy-backend retry policy (default {@link DEFAULT_BUSY_RETRY}). */
  readonly busyRetry?: BusyRetryPolicy;
}

/** Stage options: `allowDowngrade` is always sent explicitly (rpm-ostree's defaults differ per method). */
export interface StageOptions {
  /** Allow a commit older than the booted one. */
  readonly allowDowngrade: boolean;
  /** Also require the staged stream to equal the booted one (default true). */
  readonly confirmStream?: boolean;
}

/** The rpm-ostree client as the agent uses it (domain types only). Every failure is an OstreeClientError. */
export interface OstreeClient {
  /** Current deployments (Sysroot.Deployments, parsed). */
  status(): Promise<DeploymentSet>;
  /** Registers `name` (default: the configured driver name) as the update driver. */
  registerDriver(name?: string): Promise<void>;
  /** Deploys `release.payload` with finalization locked, then confirms and returns the staged deployment. */
  stage(release: Pick<Release, 'payload' | 'version'>, opts: StageOptions, signal?: AbortSignal): Promise<Deployment>;
  /**
   * FinalizeDeployment(checksum): unlocks the staged deployment; the backend then reboots.
   * `alreadyUnlocked` sends `allow-unlocked`: the backend skips the unlock and only reboots.
   */
  finalize(checksum: string, opts?: { readonly alreadyUnlocked?: boolean }): Promise<void>;
  /** Cleanup(['pending-deploy']): removes a staged deployment. */
  cleanupPending(): Promise<void>;
  /**
   * Rollback: makes the deployment after the booted one the default (the backend's `ostree admin
   * set-default`); with `reboot` the backend then reboots the host.
   */
  rollback(opts: { readonly reboot: boolean }): Promise<void>;
  /** UnregisterClient and disconnect. */
  close(): Promise<void>;
}

type Proxy = Record<string, (...args: unknown[]) => Promise<unknown>>;

interface Session {
  readonly bus: MessageBus;
  readonly sysroot: Proxy;
  readonly sysrootProps: Proxy;
  readonly os: Proxy;
  readonly osname: string;
  /** Aborted when the backend's bus name changes owner (restart or exit). */
  readonly gone: AbortController;
  /** Set when the backend changed: the next call reconnects, re-registers and re-resolves the OS. */
  stale: boolean;
  readonly stopWatch: () => void;
}

/** Creates the client; nothing is connected until the first call. */
export function createOstreeClient(opts: OstreeClientOptions): OstreeClient {
  const log = opts.logger.child({ component: 'ostree.client' });
  const clientId = opts.clientId ?? 'alt-updated';
  const callTimeoutMs = opts.callTimeoutMs ?? 60_000;
  const busyPolicy = opts.busyRetry ?? DEFAULT_BUSY_RETRY;
  const txDeps: TransactionDeps = {
    clock: opts.clock,
    logger: log,
    timeoutMs: opts.transactionTimeoutMs ?? 3_600_000,
    cancelTimeoutMs: 10_000,
    connectTimeoutMs: 10_000,
  };
  let session: Session | null = null;
  let connecting: Promise<Session> | null = null;

  /** Bounds a plain call by `callTimeoutMs` on the injected clock and types its failure. */
  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const stop = new AbortController();
    try {
      return await Promise.race([
        fn(),
        opts.clock.sleep(callTimeoutMs, stop.signal).then(
          () => {
            throw new OstreeClientError('OSTREE_TIMEOUT', `${what}: no reply within ${callTimeoutMs} ms`);
          },
          () => new Promise<never>(() => undefined),
        ),
      ]);
    } catch (err: unknown) {
      throw classifyCallError(err, what);
    } finally {
      stop.abort();
    }
  }

  async function open(): Promise<Session> {
    let bus: MessageBus;
    try {
      bus = await connectBus({ ...(opts.busAddress !== undefined ? { address: opts.busAddress } : {}), onError: () => undefined });
    } catch (err: unknown) {
      throw new OstreeClientError('OSTREE_BACKEND_GONE', 'cannot connect to the system bus', { cause: err });
    }
    try {
      // The owner seen right after RegisterClient; a later change means the backend restarted or left
      // (a change before that is just bus activation, which RegisterClient itself may trigger).
      const state: { owner: string | null | undefined; gone: AbortController; stale: boolean } = {
        owner: undefined,
        gone: new AbortController(),
        stale: false,
      };
      const stopWatch = await watchNameOwner(bus, RPMOSTREE_BUS_NAME, (owner) => {
        if (state.owner === undefined || owner === state.owner) return;
        log.warn({ event: 'ostree_backend_changed', owner }, owner === '' ? 'ostree backend left the bus' : 'ostree backend restarted');
        state.stale = true;
        state.gone.abort();
      });
      const sysObj = await call('introspect Sysroot', () => bus.getProxyObject(RPMOSTREE_BUS_NAME, SYSROOT_PATH));
      const sysroot = sysObj.getInterface(SYSROOT_IFACE) as unknown as Proxy;
      const sysrootProps = sysObj.getInterface(PROPS_IFACE) as unknown as Proxy;
      await call('RegisterClient', () => sysroot['RegisterClient']!({ id: new Variant('s', clientId) }));
      state.owner = await call('GetNameOwner', () => getNameOwner(bus, RPMOSTREE_BUS_NAME));
      const osPath = await resolveOs(sysroot, sysrootProps);
      const osObj = await call('introspect OS', () => bus.getProxyObject(RPMOSTREE_BUS_NAME, osPath));
      const os = osObj.getInterface(OS_IFACE) as unknown as Proxy;
      const osProps = osObj.getInterface(PROPS_IFACE) as unknown as Proxy;
      const name = await call('OS.Name', () => osProps['Get']!(OS_IFACE, 'Name'));
      const osname = (name as { value?: unknown }).value;
      if (typeof osname !== 'string') throw new OstreeBadReplyError('OS.Name', 'expected a string');
      log.info({ event: 'ostree_connected', osname, osPath }, `connected to the ostree backend (os '${osname}')`);
      return Object.assign(state, { bus, sysroot, sysrootProps, os, osname, stopWatch });
    } catch (err: unknown) {
      bus.disconnect();
      throw err;
    }
  }

  async function resolveOs(sysroot: Proxy, props: Proxy): Promise<string> {
    if (opts.osname !== undefined) return String(await call('GetOS', () => sysroot['GetOS']!(opts.osname)));
    try {
      return String(await call('GetOS', () => sysroot['GetOS']!('')));
    } catch (err: unknown) {
      if (!(err instanceof OstreeClientError) || err.code !== 'OSTREE_CALL_FAILED') throw err;
      // Not booted from ostree: fall back to the sysroot's default (first) deployment's stateroot.
      const set = parseDeploymentSet(((await call('Deployments', () => props['Get']!(SYSROOT_IFACE, 'Deployments'))) as { value: unknown }).value);
      const first = set.deployments[0];
      if (first === undefined) throw new OstreeClientError('OSTREE_NO_OS', 'no booted OS and no deployments', { cause: err });
      return String(await call('GetOS', () => sysroot['GetOS']!(first.osname)));
    }
  }

  async function current(): Promise<Session> {
    if (session !== null && !isClosed(session.bus) && !session.stale) return session;
    if (session !== null) {
      session.stopWatch();
      session.bus.disconnect();
      session = null;
    }
    connecting ??= open().finally(() => (connecting = null));
    session = await connecting;
    return session;
  }

  async function readDeployments(s: Session): Promise<DeploymentSet> {
    const v = await call('Deployments', () => s.sysrootProps['Get']!(SYSROOT_IFACE, 'Deployments'));
    return parseDeploymentSet((v as { value?: unknown }).value, opts.streamPrefix !== undefined ? { streamPrefix: opts.streamPrefix } : {});
  }

  /** Starts a transaction method (busy -> retried) and follows it to its end. */
  async function transaction(what: string, start: (s: Session) => Promise<unknown>, signal?: AbortSignal): Promise<Session> {
    const s = await current();
    const address = await withBusyRetry(what, () => call(what, () => start(s)), { clock: opts.clock, logger: log, policy: busyPolicy, signal });
    if (typeof address !== 'string' || address === '') throw new OstreeBadReplyError(`${what}.transaction_address`, 'expected a D-Bus address');
    await followTransaction(address, what, txDeps, s.gone.signal, signal);
    // rpm-ostree's CLI uses Reload as a barrier so the properties reflect the transaction.
    await call('Reload', () => s.sysroot['Reload']!()).catch((err: unknown) => {
      if (!(err instanceof OstreeClientError) || err.remote?.name !== 'org.freedesktop.DBus.Error.NotSupported') throw err;
    });
    return s;
  }

  const b = (v: boolean): dbus.Variant => new Variant('b', v);

  return {
    status: async () => readDeployments(await current()),

    registerDriver: async (name = opts.driverName ?? 'alt-updated') => {
      try {
        await transaction('register-driver', (s) =>
          s.os['Deploy']!('', { 'register-driver': new Variant('s', name), reboot: b(false), 'allow-downgrade': b(true) }),
        );
      } catch (err: unknown) {
        if (err instanceof OstreeClientError && err.remote?.name === 'org.freedesktop.DBus.Error.NotSupported') {
          log.warn({ event: 'driver_registration_unsupported' }, 'the ostree backend does not support update-driver registration');
          return;
        }
        throw err;
      }
    },

    stage: async (release, stageOpts, signal) => {
      // An ostree commit is staged as `revision=<checksum>`; an image (the `oci` scheme) by its pinned
      // pullspec `<name>@sha256:<hex>`, the form rpm-ostree and alt-ostreed's bootc driver take.
      const image = imagePayloadDigest(release.payload) !== null;
      if (!image && !HEX64.test(release.payload)) {
        throw new OstreeClientError('OSTREE_INVALID_ARGUMENT', `payload '${release.payload}' is neither a 64-hex commit checksum nor an image pullspec with digest`);
      }
      const options = {
        'lock-finalization': b(true),
        'skip-branch-check': b(true),
        'allow-downgrade': b(stageOpts.allowDowngrade),
        reboot: b(false),
        'initiating-command-line': new Variant('s', `alt-updated stage ${release.version}`),
      };
      const revision = image ? release.payload : `revision=${release.payload}`;
      const s = await transaction('deploy', (x) => x.os['Deploy']!(revision, options), signal);
      const set = await readDeployments(s);
      return confirmStaged(set, release, stageOpts.confirmStream ?? true);
    },

    finalize: async (checksum, finalizeOpts) => {
      await transaction('finalize-deployment', (s) =>
        s.os['FinalizeDeployment']!({
          // For an image the expected value is its digest, as rpm-ostree takes for container origins.
          checksum: new Variant('s', imagePayloadDigest(checksum) ?? checksum),
          ...(finalizeOpts?.alreadyUnlocked === true ? { 'allow-unlocked': b(true) } : {}),
          'initiating-command-line': new Variant('s', 'alt-updated finalize'),
        }),
      );
    },

    cleanupPending: async () => {
      await transaction('cleanup', (s) => s.os['Cleanup']!(['pending-deploy']));
    },

    rollback: async ({ reboot }) => {
      await transaction('rollback', (s) => s.os['Rollback']!({ reboot: b(reboot), 'initiating-command-line': new Variant('s', 'alt-updated-health rollback') }));
    },

    close: async () => {
      const s = session;
      session = null;
      if (s === null) return;
      s.stopWatch();
      try {
        if (!isClosed(s.bus)) await call('UnregisterClient', () => s.sysroot['UnregisterClient']!({}));
      } catch (err: unknown) {
        log.debug({ event: 'unregister_failed', err: (err as Error).message }, 'UnregisterClient failed');
      } finally {
        s.bus.disconnect();
      }
    },
  };
}

/** Checks the staged deployment is exactly `release` (and on the booted stream when asked), by `stagedMismatch`. */
export function confirmStaged(set: DeploymentSet, release: Pick<Release, 'payload' | 'version'>, confirmStream: boolean): Deployment {
  const st = set.staged;
  const field = stagedMismatch(set, release, confirmStream ? set.booted : null);
  if (st === null) throw new OstreeStageMismatchError('missing', release.payload, null, null);
  switch (field) {
    case null:
      return st;
    case 'missing':
    case 'checksum':
      throw new OstreeStageMismatchError('checksum', release.payload, st.checksum, st);
    case 'version':
      throw new OstreeStageMismatchError('version', release.version, st.version, st);
    case 'stream':
      throw new OstreeStageMismatchError('stream', set.booted?.stream ?? null, st.stream, st);
  }
}
