// Follows one rpm-ostree transaction over its private peer-to-peer socket, as
// rpmostree-clientlib.cxx transaction_connect does: connect, subscribe, Start, wait for Finished,
// always disconnect (rpm-ostree keeps the transaction open while a peer stays connected).
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import { whenClosed } from '../../dbus/connection.js';
import { connectPeer, type MessageBus } from '../../dbus/peer.js';
import { OstreeClientError, OstreeCommitRefusedError } from './errors.js';
import { refusalReason } from '../verification.js';
import { classifyCallError } from './remote-errors.js';

const TX_IFACE = 'org.projectatomic.rpmostree1.Transaction';

/** What following a transaction needs. */
export interface TransactionDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Give up (and Cancel) when Finished has not arrived within this many ms. */
  readonly timeoutMs: number;
  /** How long Cancel may take before we stop waiting for it, ms. */
  readonly cancelTimeoutMs: number;
  /** Deadline for connecting to the transaction socket, ms. */
  readonly connectTimeoutMs: number;
}

type Outcome =
  | { kind: 'finished'; success: boolean; message: string }
  | { kind: 'closed' }
  | { kind: 'gone' }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'start_failed'; err: unknown };

function onAbort(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return new Promise<void>(() => undefined);
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function logProgress(tx: NodeJS.EventEmitter, log: Logger): void {
  tx.on('Message', (text: string) => log.info({ event: 'transaction_message' }, text));
  tx.on('TaskBegin', (text: string) => log.debug({ event: 'transaction_task_begin' }, text));
  tx.on('TaskEnd', (text: string) => log.debug({ event: 'transaction_task_end' }, text));
  tx.on('PercentProgress', (text: string, percent: number) => log.debug({ event: 'transaction_progress', percent }, text));
  tx.on('DownloadProgress', (...args: unknown[]) => {
    // (tt) time, (uu) outstanding, (uuu) metadata, (uuut) delta, (uu) content, (tt) transfer
    const content = args[4] as [number, number] | undefined;
    const transfer = args[5] as [bigint, bigint] | undefined;
    log.debug(
      { event: 'transaction_download', fetched: content?.[0] ?? null, requested: content?.[1] ?? null, bytes: transfer?.[0]?.toString() ?? null },
      'downloading',
    );
  });
  tx.on('ProgressEnd', () => log.debug({ event: 'transaction_progress_end' }, 'progress end'));
}

/**
 * Runs the transaction at `address` to its end. Resolves on `Finished(true)`; throws
 * OSTREE_TRANSACTION_FAILED on `Finished(false, msg)`, OSTREE_BACKEND_GONE when the peer socket closes
 * or `backendGone` fires first, OSTREE_TIMEOUT (after calling Cancel) when nothing finishes in time,
 * OSTREE_ABORTED (after Cancel) when `signal` aborts.
 */
export async function followTransaction(
  address: string,
  what: string,
  deps: TransactionDeps,
  backendGone: AbortSignal,
  signal?: AbortSignal,
): Promise<void> {
  const log = deps.logger.child({ transaction: what });
  let bus: MessageBus;
  try {
    bus = await connectPeer(address, { timeoutMs: deps.connectTimeoutMs });
  } catch (err: unknown) {
    throw new OstreeClientError('OSTREE_BACKEND_GONE', `${what}: cannot connect to the transaction at ${address}`, { cause: err });
  }
  const timer = new AbortController();
  try {
    let tx: NodeJS.EventEmitter & Record<string, (...a: unknown[]) => Promise<unknown>>;
    try {
      tx = (await bus.getProxyObject('org.projectatomic.rpmostree1', '/')).getInterface(TX_IFACE) as typeof tx;
    } catch (err: unknown) {
      throw classifyCallError(err, `${what}: transaction introspection`);
    }
    logProgress(tx, log);
    const finished = new Promise<Outcome>((resolve) =>
      tx.on('Finished', (success: boolean, message: string) => resolve({ kind: 'finished', success, message })),
    );
    const started = tx['Start']!().then(
      (s: unknown): Promise<Outcome> => {
        if (s !== true) log.info({ event: 'transaction_attached' }, 'attaching to an existing transaction');
        return finished;
      },
      (err: unknown): Outcome => ({ kind: 'start_failed', err }),
    );
    const outcome: Outcome = await Promise.race([
      started,
      finished,
      whenClosed(bus).then((): Outcome => ({ kind: 'closed' })),
      onAbort(backendGone).then((): Outcome => ({ kind: 'gone' })),
      onAbort(signal).then((): Outcome => ({ kind: 'aborted' })),
      deps.clock.sleep(deps.timeoutMs, timer.signal).then(
        (): Outcome => ({ kind: 'timeout' }),
        () => new Promise<Outcome>(() => undefined),
      ),
    ]);
    switch (outcome.kind) {
      case 'finished':
        if (!outcome.success) {
          const refused = refusalReason(outcome.message);
          if (refused !== null) throw new OstreeCommitRefusedError(refused, `${what} failed: ${outcome.message}`);
          throw new OstreeClientError('OSTREE_TRANSACTION_FAILED', `${what} failed: ${outcome.message}`);
        }
        return;
      case 'start_failed': {
        const typed = classifyCallError(outcome.err, `${what}: Start`);
        throw typed;
      }
      case 'closed':
      case 'gone':
        throw new OstreeClientError('OSTREE_BACKEND_GONE', `${what}: the ostree backend went away before the transaction finished`);
      case 'timeout':
        await cancel(tx, deps, log);
        throw new OstreeClientError('OSTREE_TIMEOUT', `${what}: no result within ${deps.timeoutMs} ms; transaction cancelled`);
      case 'aborted':
        await cancel(tx, deps, log);
        throw new OstreeClientError('OSTREE_ABORTED', `${what}: aborted; transaction cancelled`, { cause: signal?.reason });
    }
  } finally {
    timer.abort();
    bus.disconnect();
  }
}

/** Calls Cancel() but never waits longer than `cancelTimeoutMs`; failures are logged, not thrown. */
async function cancel(tx: Record<string, (...a: unknown[]) => Promise<unknown>>, deps: TransactionDeps, log: Logger): Promise<void> {
  const stop = new AbortController();
  try {
    await Promise.race([
      tx['Cancel']!(),
      deps.clock.sleep(deps.cancelTimeoutMs, stop.signal).then(() => {
        throw new Error(`Cancel did not answer within ${deps.cancelTimeoutMs} ms`);
      }),
    ]);
    log.warn({ event: 'transaction_cancelled' }, 'transaction cancelled');
  } catch (err: unknown) {
    log.warn({ event: 'transaction_cancel_failed', err: err instanceof Error ? err.message : String(err) }, 'failed to cancel the transaction');
  } finally {
    stop.abort();
  }
}
