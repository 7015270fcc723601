// Arming: the trial the agent records right before it finalizes an update. Pure.
import type { DeploymentRef, HealthRecord } from './record.js';

/** What arming needs to know. */
export interface ArmFacts {
  /** Release (version) being finalized. */
  readonly release: string;
  /** The staged deployment the next boot must be. */
  readonly expected: DeploymentRef;
  /** The booted deployment now. */
  readonly previous: DeploymentRef;
  /** This boot's id. */
  readonly bootId: string;
  /** `health.boot_attempts`. */
  readonly maxAttempts: number;
}

/** The record with a fresh trial for `f` (re-arming the same deployment in the same boot keeps it as is). */
export function armTrial(r: HealthRecord, f: ArmFacts): HealthRecord {
  const t = r.trial;
  if (t !== null && t.phase === 'armed' && t.armedBootId === f.bootId && t.expected.payload === f.expected.payload && t.expected.serial === f.expected.serial) return r;
  return {
    ...r,
    trial: {
      release: f.release,
      expected: f.expected,
      previous: f.previous,
      armedBootId: f.bootId,
      maxAttempts: f.maxAttempts,
      attempts: 0,
      lastBootId: null,
      phase: 'armed',
      rollbackTo: null,
      rollbackBootId: null,
    },
  };
}
