/** One OS release as the update graph and the agent see it. */
export interface Release {
  /** Human version, e.g. `20261115.0.0` or Fedora-style `40.20240616.3.0`. */
  readonly version: string;
  /** The ostree commit checksum (64 lowercase hex): what gets deployed. */
  readonly payload: string;
  /** Position in release order (higher is newer); from graph metadata. */
  readonly ageIndex: number;
}

/** Renders `version (payload prefix)` for logs and status lines. */
export function describeRelease(r: Release): string {
  return `${r.version} (${r.payload.slice(0, 12)})`;
}
