/** One OS release as the update graph and the agent see it. */
export interface Release {
  /** Human version, e.g. `20261115.0.0` or Fedora-style `40.20240616.3.0`. */
  readonly version: string;
  /**
   * What gets deployed: the ostree commit checksum (64 lowercase hex), or for scheme `oci` the image
   * pullspec pinned by digest, `<registry>/<repo>@sha256:<64 hex>`.
   */
  readonly payload: string;
  /** Position in release order (higher is newer); from graph metadata. */
  readonly ageIndex: number;
  /** `oci` for an image release; absent for an ostree commit (scheme `checksum`). */
  readonly scheme?: 'oci';
}

/** A payload shortened for logs: a checksum's first 12 hex digits, `<image>@<12 digest hex>` for an image. */
export function shortPayload(payload: string): string {
  // For an image, the digest identifies it; `<name>@sha256:` would be the same for every release.
  const at = payload.lastIndexOf('@sha256:');
  return at >= 0 ? `${payload.slice(0, at)}@${payload.slice(at + 8, at + 20)}` : payload.slice(0, 12);
}

/** Renders `version (payload prefix)` for logs and status lines. */
export function describeRelease(r: Release): string {
  return `${r.version} (${shortPayload(r.payload)})`;
}
