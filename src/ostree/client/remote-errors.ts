// Classifies D-Bus failures of rpm-ostree calls into the client's typed errors, and the busy retry.
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import { remoteErrorInfo, type RemoteErrorInfo } from '../../dbus/errors.js';
import { OstreeClientError } from './errors.js';

const GIO = 'org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark';

/**
 * rpm-ostree refuses a second, different transaction with G_IO_ERROR_BUSY "Transaction in progress:
 * TITLE", which GLib encodes as `…Code26`; the sysroot lock gives "System transaction in progress";
 * rpm-ostree's own domain has `UpdateInProgress`. Match the name or the text (rpm-ostree-dbus-api.md §4.4).
 */
export function isBusy(info: RemoteErrorInfo | null): boolean {
  if (info === null) return false;
  return (
    info.name === `${GIO}.Code26` ||
    info.name === 'org.projectatomic.rpmostreed.Error.UpdateInProgress' ||
    /^(System )?[Tt]ransaction in progress/.test(info.text)
  );
}

const GONE = new Set([
  'org.freedesktop.DBus.Error.Disconnected',
  'org.freedesktop.DBus.Error.ServiceUnknown',
  'org.freedesktop.DBus.Error.NameHasNoOwner',
  'org.freedesktop.DBus.Error.NoReply',
  'org.freedesktop.DBus.Error.NoServer',
]);

/** Turns a failed call into a typed client error (busy, backend gone, access denied, or failed). */
export function classifyCallError(err: unknown, what: string): OstreeClientError {
  if (err instanceof OstreeClientError) return err;
  const info = remoteErrorInfo(err);
  if (info === null) {
    return new OstreeClientError('OSTREE_CALL_FAILED', `${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const base = { cause: err, remote: info };
  if (isBusy(info)) return new OstreeClientError('OSTREE_BUSY', `${what}: backend busy: ${info.text}`, base);
  if (GONE.has(info.name)) return new OstreeClientError('OSTREE_BACKEND_GONE', `${what}: ostree backend unavailable: ${info.text}`, base);
  if (info.name === 'org.freedesktop.DBus.Error.AccessDenied' || info.name === 'org.projectatomic.rpmostreed.Error.NotAuthorized') {
    return new OstreeClientError('OSTREE_ACCESS_DENIED', `${what}: access denied: ${info.text}`, base);
  }
  return new OstreeClientError('OSTREE_CALL_FAILED', `${what} failed: ${info.name}: ${info.text}`, base);
}

/** How often and how patiently a busy backend is retried. */
export interface BusyRetryPolicy {
  /** Total attempts, the first included (default 6). */
  readonly attempts: number;
  /** Delay before the second attempt, doubled each time (default 1000 ms). */
  readonly initialDelayMs: number;
  /** Upper bound of one delay (default 30000 ms). */
  readonly maxDelayMs: number;
}

/** Defaults: 6 attempts, 1 s doubling to at most 30 s (~31 s in total). */
export const DEFAULT_BUSY_RETRY: BusyRetryPolicy = { attempts: 6, initialDelayMs: 1000, maxDelayMs: 30_000 };

/** Delay before attempt `n + 1` (n >= 1 attempts made): exponential, capped. */
export function busyDelayMs(attemptsMade: number, policy: BusyRetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attemptsMade - 1));
}

/**
 * Runs `call`, retrying while the backend answers "transaction in progress" (sleeping on the injected
 * clock); any other failure, or the last busy answer, is thrown as a typed error.
 */
export async function withBusyRetry<T>(
  what: string,
  call: () => Promise<T>,
  deps: { clock: Clock; logger: Logger; policy: BusyRetryPolicy; signal?: AbortSignal | undefined },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err: unknown) {
      const typed = classifyCallError(err, what);
      if (typed.code !== 'OSTREE_BUSY' || attempt >= deps.policy.attempts) throw typed;
      const delayMs = busyDelayMs(attempt, deps.policy);
      deps.logger.info({ event: 'ostree_busy_retry', attempt, delayMs, what }, `ostree backend busy, retrying ${what} in ${delayMs} ms`);
      try {
        await deps.clock.sleep(delayMs, deps.signal);
      } catch (abortErr: unknown) {
        throw new OstreeClientError('OSTREE_ABORTED', `${what} aborted while waiting for a busy backend`, { cause: abortErr });
      }
    }
  }
}
