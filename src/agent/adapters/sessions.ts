// Adapts the logind probe and the tty broadcaster (src/agent/operator) to the agent's SessionPort.
import type { Logger } from '../../common/logger.js';
import { broadcast, broadcastMessage } from '../operator/broadcast.js';
import { isInteractive, blocksShutdown, type SessionProbe } from '../operator/sessions.js';
import type { InteractiveSession, SessionPort } from '../ports.js';

/** Options of {@link sessionPort}. */
export interface SessionPortOptions {
  /** Wall-clock time for the warnings' header, in ms since the epoch. */
  readonly nowMs: () => number;
  /** Where the ttys are. @default "/dev" (tests pass a temp dir) */
  readonly devRoot?: string;
}

/**
 * Builds the session port over a logind probe; warnings go to the interactive sessions' ttys, framed
 * as a broadcast ({@link broadcastMessage}): on a real terminal the bare text would start at the end
 * of the user's prompt and leave the cursor at the end of the text.
 */
export function sessionPort(probe: SessionProbe, logger: Logger, opts: SessionPortOptions): SessionPort {
  return {
    async interactiveSessions(): Promise<InteractiveSession[]> {
      const sessions = await probe.interactiveSessions();
      return sessions.filter(isInteractive).map((s) => ({ user: s.user, tty: s.tty }));
    },
    async blockInhibitors(): Promise<string[]> {
      const blockers = await probe.shutdownBlockers();
      return blockers.filter(blocksShutdown).map((i) => `${i.who}: ${i.why} (${i.what.join(':')})`);
    },
    async warn(message: string): Promise<void> {
      const sessions = (await probe.interactiveSessions()).filter(isInteractive);
      const text = broadcastMessage(message, opts.nowMs());
      await broadcast(sessions, text, opts.devRoot === undefined ? { logger } : { logger, devRoot: opts.devRoot });
    },
  };
}
