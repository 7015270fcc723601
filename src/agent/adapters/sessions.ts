// Adapts the logind probe and the tty broadcaster (src/agent/operator) to the agent's SessionPort.
import type { Logger } from '../../common/logger.js';
import { broadcast } from '../operator/broadcast.js';
import { isInteractive, blocksShutdown, type SessionProbe } from '../operator/sessions.js';
import type { InteractiveSession, SessionPort } from '../ports.js';

/** Builds the session port over a logind probe; warnings go to the interactive sessions' ttys. */
export function sessionPort(probe: SessionProbe, logger: Logger, devRoot?: string): SessionPort {
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
      await broadcast(sessions, message, devRoot === undefined ? { logger } : { logger, devRoot });
    },
  };
}
