// The bootc driver's typed errors.
import { AltError } from '../../../common/errors.js';
import { REFUSAL_MARKER } from '../../verification.js';

/** `bootc status --format=json` printed something that is not bootc's host document; names the field. */
export class BootcStatusError extends AltError {
  /** JSON path of the culprit, e.g. `status.staged.image.imageDigest`. */
  readonly field: string;

  constructor(field: string, problem: string) {
    super('OSTREED_BOOTC_STATUS', `bootc status: ${field}: ${problem}`, { kind: 'bootc_status' });
    this.field = field;
  }
}

/**
 * bootc (containers/image under it) refused an image under the host's signature policy: unsigned,
 * signed by a key the policy does not trust, or a bad signature. The message names the image, the
 * policy file and the reason the agent's classifier reads (src/ostree/verification.ts):
 * `image <ref> refused by verification (signature_policy): policy <file>: <bootc's text>`.
 */
export class ImageRefusedError extends AltError {
  /** The refused image (`name@sha256:…`, or the tag followed when no digest was asked for). */
  readonly image: string;
  /** The policy file that refused it. */
  readonly policy: string;

  constructor(image: string, policy: string, detail: string, cause?: unknown) {
    super('OSTREED_IMAGE_REFUSED', `image ${image} ${REFUSAL_MARKER} (signature_policy): policy ${policy}: ${detail}`, {
      kind: 'image_refused',
      cause,
    });
    this.image = image;
    this.policy = policy;
  }
}

/** Why the bootc driver cannot stage a rebase (a graph target under another image name). */
export type BootcRebaseReason = 'no_switch_download_only' | 'ostree_remote_signature' | 'transport';

/**
 * A rebase the bootc driver refuses, staging nothing: the installed bootc has no `switch
 * --download-only` (it could only stage the other image unlocked), the booted image is verified
 * through an ostree remote (`bootc switch` cannot carry that), or it is not a registry image.
 */
export class BootcRebaseError extends AltError {
  /** Which rule refused it. */
  readonly reason: BootcRebaseReason;

  constructor(reason: BootcRebaseReason, message: string) {
    super('OSTREED_BOOTC_REBASE', message, { kind: 'bootc_rebase' });
    this.reason = reason;
  }
}
