// Warnings to interactive users before a reboot, written straight to their tty devices (the unit
// gives the agent the `tty` group; no `wall`, no setuid helper). Plus the admin override file that
// skips the wait for sessions. Message text follows Zincati's (reference §7).
import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import type { UserSession } from './sessions.js';

/** Admins create this file to finalize without waiting for interactive sessions. */
export const OVERRIDE_INTERACTIVE_CHECK = '/run/alt-updated/override-interactive-check';

/** `1 hour, 5 minutes and 30 seconds`; `0 seconds` for zero. Whole seconds, rounded down. */
export function humanDuration(totalSecs: number): string {
  const s = Math.max(0, Math.floor(totalSecs));
  const parts: string[] = [];
  const unit = (n: number, word: string): void => {
    if (n > 0) parts.push(`${n} ${word}${n === 1 ? '' : 's'}`);
  };
  unit(Math.floor(s / 3600), 'hour');
  unit(Math.floor((s % 3600) / 60), 'minute');
  unit(s % 60, 'second');
  if (parts.length === 0) return '0 seconds';
  const last = parts.pop()!;
  return parts.length === 0 ? last : `${parts.join(', ')} and ${last}`;
}

/** `Fri 2026-11-27 10:00:00 UTC`. */
export function broadcastTimestamp(nowMs: number): string {
  const d = new Date(nowMs);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]!;
  return `${day} ${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * What a tty shows of one warning: a line end (the cursor is usually at the end of a shell prompt),
 * a header naming the sender and the time, the text, and a line end (so the user's next input does
 * not run on into it). Zincati's layout.
 */
export function broadcastMessage(text: string, nowMs: number): string {
  return ['', `Broadcast message from alt-updated at ${broadcastTimestamp(nowMs)}:`, text, ''].join('\n');
}

/** The warning shown on each tty: a blank line, a header, and what will happen when. */
export function rebootWarning(p: { version: string; remainingSecs: number; nowMs: number }): string {
  return broadcastMessage(
    [
      `New update ${p.version} is available and has been deployed.`,
      `If permitted by the update strategy, alt-updated will reboot into this update when all interactive users have logged out, or in ${humanDuration(p.remainingSecs)}, whichever comes earlier.`,
      'Please log out of all active sessions in order to let the auto-update process continue.',
    ].join('\n'),
    p.nowMs,
  );
}

/** A tty name logind may report (`pts/3`, `tty1`, `ttyS0`): no absolute paths, no `..`. */
export function isSafeTtyName(tty: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/.test(tty) && !tty.split('/').includes('..');
}

/** Outcome of one broadcast. */
export interface BroadcastResult {
  /** ttys written. */
  readonly sent: readonly string[];
  /** ttys that could not be written, with the reason. */
  readonly failed: readonly { tty: string; error: string }[];
}

/** Writes to a tty without blocking (a stopped terminal must not stall the agent) and without adopting it. */
async function writeTty(path: string, text: string): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK | constants.O_APPEND);
  try {
    await fh.write(text);
  } finally {
    await fh.close();
  }
}

/**
 * Writes `message` once to each distinct tty of `sessions` under `devRoot` (default `/dev`; tests
 * pass a temp dir). Sessions without a tty are skipped. Never throws: failures are logged per tty
 * and summarised, as Zincati does.
 */
export async function broadcast(
  sessions: readonly UserSession[],
  message: string,
  opts: { logger: Logger; devRoot?: string },
): Promise<BroadcastResult> {
  const log = opts.logger.child({ component: 'operator.broadcast' });
  const ttys = [...new Set(sessions.map((s) => s.tty).filter((t): t is string => t !== null))];
  const text = message.replace(/\r?\n/g, '\r\n'); // the tty may be in raw mode
  const sent: string[] = [];
  const failed: { tty: string; error: string }[] = [];
  for (const tty of ttys) {
    if (!isSafeTtyName(tty)) {
      failed.push({ tty, error: 'refusing an unexpected tty name' });
      continue;
    }
    try {
      await writeTty(join(opts.devRoot ?? '/dev', tty), text);
      sent.push(tty);
    } catch (err: unknown) {
      failed.push({ tty, error: err instanceof Error ? err.message : String(err) });
    }
  }
  for (const f of failed) log.warn({ tty: f.tty, err: f.error }, `failed to write broadcast message to '${f.tty}': ${f.error}`);
  if (failed.length > 0) log.warn({ sent: sent.length, sessions: sessions.length }, `${sessions.length} interactive sessions found, but only broadcasted to ${sent.length}`);
  return { sent, failed };
}

/** True when the override file exists (path injectable for tests). */
export async function interactiveCheckOverridden(path: string = OVERRIDE_INTERACTIVE_CHECK): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
