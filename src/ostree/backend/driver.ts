// The host-driver port: what alt-ostreed's D-Bus service needs from whatever mutates the host. The
// service speaks rpm-ostree's API on one side and a HostDriver on the other; each kind of host is one
// driver (ostree-driver.ts: plain ostree; bootc/: a bootc host), chosen once at the composition root.
import type { ProgressSink } from './operations.js';
import type { WorkRequest } from './requests.js';
import type { BackendState } from './state.js';

/** One consistent read of the host, as the service keeps it between transactions. */
export interface HostSnapshot {
  /** The deployments in rpm-ostree's terms (what the D-Bus properties show). */
  readonly state: BackendState;
  /** A text identity of the read: two snapshots with the same `raw` describe the same host. */
  readonly raw: string;
}

/** What one transaction's work gets from the service. */
export interface DriverWork {
  readonly osname: string;
  readonly progress: ProgressSink;
  readonly signal: AbortSignal;
  /** Initiates the reboot (the configured reboot command; logind on a real host). */
  readonly reboot: () => Promise<void>;
  /** The service's last snapshot, taken by this driver; checks are made against it. */
  readonly snapshot: HostSnapshot;
}

/** The kinds of host alt-ostreed can drive. */
export const HOST_KINDS = ['ostree', 'bootc'] as const;

/** One of {@link HOST_KINDS}. */
export type HostKind = (typeof HOST_KINDS)[number];

/** A host driver. Failures the client should see verbatim are `TransactionFailure`s. */
export interface HostDriver {
  readonly kind: HostKind;
  /** Reads the host now. */
  status(): Promise<HostSnapshot>;
  /**
   * Runs one transaction's work; resolves with the host after it, or null when the caller must
   * re-read (a reboot was initiated, or the work did not leave a fresh read behind).
   */
  run(work: DriverWork, req: WorkRequest): Promise<HostSnapshot | null>;
  /** A line for the start-up log describing the host (capabilities, booted image). */
  describe(): Promise<Record<string, unknown>>;
}
