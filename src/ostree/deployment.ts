/** One ostree deployment, parsed once at the D-Bus boundary from rpm-ostree's `aa{sv}` dicts. */
export interface Deployment {
  /** rpm-ostree deployment id, e.g. `altcos-<checksum>.0`. */
  readonly id: string;
  /** ostree stateroot (`osname`). */
  readonly osname: string;
  /** Commit checksum (64 lowercase hex). */
  readonly checksum: string;
  /** `version` commit metadata, or null when the commit has none. */
  readonly version: string | null;
  /** Origin refspec, e.g. `altcos:altcos/x86_64/sisyphus`, or null. */
  readonly origin: string | null;
  /** Stream parsed from the origin ref (`altcos/<arch>/<stream>[/<name>]`), or null. */
  readonly stream: string | null;
  /** Commit timestamp in ms since the epoch (rpm-ostree sends seconds as `t`). */
  readonly timestampMs: number;
  /** Deployment serial. */
  readonly serial: number;
  /** True for the deployment the host runs now. */
  readonly booted: boolean;
  /** True when staged for the next boot and not yet finalized. */
  readonly staged: boolean;
  /** True when the staged deployment's finalization is locked. */
  readonly finalizationLocked: boolean;
  /** True when pinned (never garbage-collected). */
  readonly pinned: boolean;
}

/** Deployments as the backend reports them, newest (default) first. */
export interface DeploymentSet {
  readonly deployments: readonly Deployment[];
  /** The booted deployment; null when the sysroot is not booted (a fatal fact for the agent). */
  readonly booted: Deployment | null;
  /** The staged (pending) deployment, if any. */
  readonly staged: Deployment | null;
  /** The deployment that would be rolled back to, if any. */
  readonly rollback: Deployment | null;
}

/** Parses `altcos/<arch>/<stream>[/<name>]` (with or without a `remote:` prefix) into a stream name. */
export function streamFromRef(refspec: string | null, prefix = 'altcos'): string | null {
  if (!refspec) return null;
  const ref = refspec.includes(':') ? refspec.slice(refspec.indexOf(':') + 1) : refspec;
  const parts = ref.split('/');
  if (parts.length < 3 || parts[0] !== prefix || !parts[1] || !parts[2]) return null;
  return parts[2];
}

/** Which fact of the staged deployment differs from the release it should be (`missing`: none staged). */
export type StagedMismatch = 'missing' | 'checksum' | 'version' | 'stream';

/**
 * THE confirmation of a staged deployment (Zincati's): one is staged, with the release's checksum and
 * version and, when `booted` is given, the booted deployment's stream. Returns the first fact that
 * differs, or null. The agent (fresh or adopted stage) and the rpm-ostree client both judge by it.
 */
export function stagedMismatch(
  set: DeploymentSet,
  release: { readonly payload: string; readonly version: string },
  booted: Deployment | null,
): StagedMismatch | null {
  const st = set.staged;
  if (st === null) return 'missing';
  if (st.checksum !== release.payload) return 'checksum';
  if (st.version !== release.version) return 'version';
  if (booted !== null && st.stream !== booted.stream) return 'stream';
  return null;
}
