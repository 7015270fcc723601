import { AltError } from '../common/errors.js';

/** Stable codes of simulator errors. */
export type SimulatorErrorCode = 'SIM_USAGE' | 'SIM_OSTREE' | 'SIM_ETCD' | 'SIM_STUCK' | 'SIM_SERVER';

/** A simulator failure: bad arguments, no ostree to build the release repo, an etcd or server process that would not start, a run that stopped moving. */
export class SimulatorError extends AltError {
  constructor(code: SimulatorErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
