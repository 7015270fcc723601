import { AltError } from '../common/errors.js';

export { IllegalTransitionError } from './transition.js';

/** "update now" was asked while no update is staged. */
export class NothingStagedError extends AltError {
  constructor(state: string) {
    super('AGENT_NOTHING_STAGED', `no update is staged (agent state: ${state})`, { kind: 'nothing_staged' });
  }
}

/** The agent stopped before the requested tick ran. */
export class AgentStoppedError extends AltError {
  constructor() {
    super('AGENT_STOPPED', 'the agent is stopping', { kind: 'stopped' });
  }
}

/**
 * The tick that served an "update now" request could not finalize (block inhibitor, failed
 * finalize, backend down, ...). The request is dropped; `reason` says why, in one line.
 */
export class UpdateNowFailedError extends AltError {
  constructor(reason: string) {
    super('AGENT_UPDATE_NOW_FAILED', `the staged update was not finalized: ${reason}`, { kind: 'update_now_failed' });
  }
}
