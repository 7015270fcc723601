// rpm-ostree's transaction protocol (rpmostreed-transaction.cxx): a private peer-to-peer server per
// transaction, the Transaction object at `/` on each peer, Start/Cancel, progress signals and
// Finished, closing when executed and every peer is gone (or after a force-close timeout).
import { basename, join } from 'node:path';
import { whenClosed } from '../../dbus/connection.js';
import { listenPeer, type MessageBus, type PeerServer } from '../../dbus/peer.js';
import { interfaceFromXml, type XmlInterface } from '../../dbus/xml-interface.js';
import type { Logger } from '../../common/logger.js';
import { errorChain } from '../../common/errors.js';
import type { ProgressSink } from './operations.js';

/** The Transaction interface name. */
export const TRANSACTION_IFACE = 'org.projectatomic.rpmostree1.Transaction';

/** How long a finished transaction waits for a client it handed its address to (ms). */
const JOIN_GRACE_MS = 2000;

/**
 * Where a transaction binds for the configured `socket`: `<socket>.d/<name of socket>`, a directory
 * the transaction creates (mode 0711, root's) and removes; `<socket>`'s own directory must be
 * writable by root only (like /run).
 */
export function privateSocketPath(socket: string): string {
  return join(`${socket}.d`, basename(socket));
}

/** What a transaction runs once a client calls Start. */
export type TransactionWork = (progress: ProgressSink, signal: AbortSignal) => Promise<void>;

/** Creation parameters. */
export interface TransactionOptions {
  readonly xml: string;
  /** The configured socket path; the socket is bound in a private directory next to it, see {@link privateSocketPath}. */
  readonly socketPath: string;
  /** The caller that starts the transaction: besides root, the only uid the kernel lets connect. */
  readonly ownerUid: number;
  readonly title: string;
  readonly clientDescription: string;
  readonly forceCloseMs: number;
  readonly logger: Logger;
  readonly work: TransactionWork;
  /** Runs after the work, before `Finished` goes out (the daemon refreshes its properties here). */
  readonly afterWork: () => Promise<void>;
  /** Called once the transaction is closed (idle again). */
  readonly onClosed: () => void;
}

type Phase = 'waiting' | 'running' | 'finished' | 'closed';

/**
 * One transaction.
 *
 * INVARIANTS: Finished is emitted exactly once to the connected peers (and replayed to a peer that
 * calls Start later); `onClosed` runs exactly once, after the work is done (or never started) and
 * the server is closed.
 */
export class Transaction {
  readonly address: string;
  #phase: Phase = 'waiting';
  #result: { success: boolean; error: string } | null = null;
  readonly #peers = new Map<MessageBus, XmlInterface>();
  readonly #abort = new AbortController();
  readonly #opts: TransactionOptions;
  readonly #server: PeerServer;
  #forceClose: NodeJS.Timeout | null = null;
  #closing: Promise<void> | null = null;
  // Addresses handed out whose client has not connected yet: a transaction that finishes before its
  // (joining) client connects stays open for it a little while (JOIN_GRACE_MS).
  #expected = 0;
  #grace: NodeJS.Timeout | null = null;

  private constructor(opts: TransactionOptions, server: PeerServer) {
    this.#opts = opts;
    this.#server = server;
    this.address = server.address;
  }

  /**
   * Starts the peer server; the returned transaction waits for a client's Start. The socket is
   * connectable by the owner and root only (kernel-enforced, see listenPeer's `connectableBy`):
   * everyone may read its address in `ActiveTransactionPath`, so SASL's claimed uid protects nothing.
   */
  static async create(opts: TransactionOptions): Promise<Transaction> {
    let tx: Transaction | null = null;
    const server = await listenPeer({
      path: privateSocketPath(opts.socketPath),
      connectableBy: opts.ownerUid,
      uid: [...new Set([0, opts.ownerUid, process.getuid?.() ?? 0])],
      onConnection: (bus) => {
        if (tx) tx.#attach(bus);
        else bus.disconnect();
      },
      onError: (err) => opts.logger.debug({ err: errorChain(err).join(': ') }, 'transaction peer error'),
    });
    tx = new Transaction(opts, server);
    return tx;
  }

  /** The address for one more client (the creator, or a caller joining it); counts it as expected. */
  handOut(): string {
    this.#expected++;
    return this.address;
  }

  /** True while the work has not finished. */
  get executing(): boolean {
    return this.#phase === 'waiting' || this.#phase === 'running';
  }

  #attach(bus: MessageBus): void {
    if (this.#phase === 'closed') {
      bus.disconnect();
      return;
    }
    const iface = interfaceFromXml(this.#opts.xml, TRANSACTION_IFACE, {
      methods: {
        Start: () => this.#start(iface),
        Cancel: () => {
          this.cancel('Operation was cancelled');
        },
      },
      getProperty: (name) => (name === 'Title' ? this.#opts.title : name === 'InitiatingClientDescription' ? this.#opts.clientDescription : ''),
    });
    iface.exportOn(bus, '/');
    this.#peers.set(bus, iface);
    this.#expected = Math.max(0, this.#expected - 1);
    void whenClosed(bus).then(() => {
      this.#peers.delete(bus);
      if (this.#phase === 'finished') this.#closeWhenIdle();
    });
  }

  /**
   * Closes a finished transaction nobody is connected to: now, or after JOIN_GRACE_MS when a client
   * was handed the address and has not connected yet (a restarted caller joining it). Whoever
   * connects in the meantime closes it by hanging up, or the force-close timeout does.
   */
  #closeWhenIdle(): void {
    if (this.#peers.size > 0) return;
    if (this.#expected === 0) {
      void this.close();
      return;
    }
    this.#grace ??= setTimeout(() => {
      this.#expected = 0;
      if (this.#peers.size === 0) void this.close();
      else this.#forceClose ??= setTimeout(() => void this.close(), this.#opts.forceCloseMs).unref();
    }, JOIN_GRACE_MS).unref();
  }

  #start(iface: XmlInterface): boolean {
    if (this.#phase === 'waiting') {
      this.#phase = 'running';
      // Reply to Start before the first signal goes out.
      setImmediate(() => void this.#run());
      return true;
    }
    if (this.#result !== null) {
      const { success, error } = this.#result;
      setImmediate(() => iface.emitSignal('Finished', success, error));
    }
    return false;
  }

  #emit(name: string, ...args: unknown[]): void {
    for (const iface of this.#peers.values()) iface.emitSignal(name, ...args);
  }

  readonly #progress: ProgressSink = {
    message: (text) => this.#emit('Message', text),
    taskBegin: (text) => this.#emit('TaskBegin', text),
    taskEnd: (text) => this.#emit('TaskEnd', text),
    percent: (text, pct) => this.#emit('PercentProgress', text, Math.max(0, Math.min(100, Math.round(pct)))),
    progressEnd: () => this.#emit('ProgressEnd'),
  };

  async #run(): Promise<void> {
    let result: { success: boolean; error: string };
    try {
      await this.#opts.work(this.#progress, this.#abort.signal);
      result = this.#abort.signal.aborted ? { success: false, error: 'Operation was cancelled' } : { success: true, error: '' };
    } catch (err: unknown) {
      result = { success: false, error: this.#abort.signal.aborted ? 'Operation was cancelled' : errorChain(err)[0] ?? 'failed' };
      this.#opts.logger.warn({ title: this.#opts.title, err: errorChain(err).join(': ') }, 'transaction failed');
    }
    await this.#finish(result);
  }

  async #finish(result: { success: boolean; error: string }): Promise<void> {
    if (this.#result !== null) return;
    try {
      await this.#opts.afterWork();
    } catch (err: unknown) {
      this.#opts.logger.warn({ err: errorChain(err).join(': ') }, 'refresh after transaction failed');
    }
    this.#result = result;
    this.#phase = 'finished';
    this.#emit('Finished', result.success, result.error);
    this.#opts.logger.info({ title: this.#opts.title, success: result.success, error: result.error }, 'transaction finished');
    if (this.#peers.size === 0) this.#closeWhenIdle();
    else this.#forceClose = setTimeout(() => void this.close(), this.#opts.forceCloseMs).unref();
  }

  /** Cancels: aborts running commands, or finishes a transaction nobody started. */
  cancel(reason: string): void {
    if (this.#phase === 'waiting') {
      this.#phase = 'running';
      void this.#finish({ success: false, error: reason });
    } else if (this.#phase === 'running') {
      this.#abort.abort();
    }
  }

  /** Cancels only if no client has called Start yet (the caller left the bus first). */
  abandon(reason: string): void {
    if (this.#phase !== 'waiting') return;
    this.#expected = Math.max(0, this.#expected - 1); // the caller that left will not connect
    this.cancel(reason);
  }

  /**
   * Closes the server and every peer; idempotent. Every call resolves only once the socket file is
   * gone: the next transaction binds the same path, and an unlink still in flight from this one
   * would delete the new socket under its client (seen as ENOENT on connect).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.executing) this.#abort.abort();
      this.#phase = 'closed';
      if (this.#forceClose) clearTimeout(this.#forceClose);
      if (this.#grace) clearTimeout(this.#grace);
      await this.#server.close().catch(() => undefined);
      this.#opts.onClosed();
    })();
    return this.#closing;
  }
}
