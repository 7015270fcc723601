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
