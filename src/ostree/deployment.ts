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
  /**
   * The container image this deployment was deployed from (rpm-ostree's and the bootc backend's
   * `container-image-reference` + `container-image-reference-digest`); absent or null for a plain
   * ostree commit. Optional so ostree-only producers need not spell it.
   */
  readonly image?: DeploymentImage | null;
}

/** An image-based deployment's origin: what the `oci` graph scheme matches. */
export interface DeploymentImage {
  /** The reference as the backend reports it, e.g. `ostree-unverified-registry:quay.io/alt/atomic:stable`. */
  readonly reference: string;
  /** Manifest digest, `sha256:<64 hex>`. */
  readonly digest: string;
  /**
   * `<registry>/<repo>@<digest>`: the graph payload of this deployment under the `oci` scheme; for a
   * local image `<reference>@<digest>`, which no graph node names.
   */
  readonly pullspec: string;
  /**
   * Set for an image built on the host (APM's rebuild mode, transport `containers-storage`): it
   * names no registry image, so no graph can update it; the agent leaves the host to APM.
   */
  readonly local?: true;
}

// ostree-rs-ext signature-verification prefixes of an `OstreeImageReference` (`<sigverify>:<imgref>`).
const SIGVERIFY_PREFIXES = ['ostree-unverified-registry:', 'ostree-unverified-image:', 'ostree-image-signed:', 'ostree-remote-registry:', 'ostree-remote-image:'];

/** `<transport>:<name>` of an image reference, without its signature-verification prefix. */
function transportReference(reference: string): string {
  for (const p of SIGVERIFY_PREFIXES) {
    if (!reference.startsWith(p)) continue;
    const r = reference.slice(p.length);
    // `ostree-remote-*` carries the ostree remote name first: `<remote>:<transport>:<name>`.
    return p.startsWith('ostree-remote-') ? r.slice(r.indexOf(':') + 1) : r;
  }
  return reference;
}

/** Whether an image reference names an image built on the host (`containers-storage:`, APM's rebuild mode). */
export function isLocalImageReference(reference: string): boolean {
  return transportReference(reference).startsWith('containers-storage:');
}

/**
 * The image name without transport, tag or digest, from an ostree/bootc image reference, as Zincati
 * derives the booted pullspec: `ostree-remote-image:fedora:docker://quay.io/f/c:stable` and
 * `docker://quay.io/f/c@sha256:…` both give `quay.io/f/c`. Returns null for a reference that names no
 * registry image (`oci:/path`, `containers-storage:…`), which no `oci` graph node can match.
 */
export function imageName(reference: string): string | null {
  let r = transportReference(reference);
  if (/^(oci|oci-archive|containers-storage|dir|docker-archive|docker-daemon):/.test(r)) return null;
  if (r.startsWith('docker://')) r = r.slice('docker://'.length);
  else if (r.startsWith('registry:')) r = r.slice('registry:'.length);
  const at = r.indexOf('@');
  if (at >= 0) r = r.slice(0, at);
  const slash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  if (colon > slash) r = r.slice(0, colon);
  return r === '' ? null : r;
}

/**
 * What identifies a deployment in the update graph: `<image>@<digest>` for an image-based deployment
 * (scheme `oci`), the ostree commit checksum otherwise (scheme `checksum`).
 */
export function deploymentPayload(d: Deployment): string {
  return d.image ? d.image.pullspec : d.checksum;
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
 * THE confirmation of a staged deployment (Zincati's): one is staged, with the release's payload (checksum, or image pullspec for an image) and
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
  if (deploymentPayload(st) !== release.payload) return 'checksum';
  if (st.version !== release.version) return 'version';
  if (booted !== null && st.stream !== booted.stream) return 'stream';
  return null;
}

const IMAGE_PAYLOAD = /^[^@\s]+@(sha256:[0-9a-f]{64})$/;

/**
 * The manifest digest (`sha256:<hex>`) of an `oci` graph payload `<name>@sha256:<hex>`, or null for
 * any other payload (an ostree commit checksum). What the backend gets to stage and finalize an image.
 */
export function imagePayloadDigest(payload: string): string | null {
  return IMAGE_PAYLOAD.exec(payload)?.[1] ?? null;
}
