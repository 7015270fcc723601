// Pure: how the bootc driver stages a rebase (a Deploy whose image name differs from the booted one,
// what Zincati stages with `rpm-ostree rebase`): `bootc switch --download-only` under the same rules
// as an upgrade. The pull stays under the host's policy.json (no unverified transport, no
// `--no-signature-verification`), the target is a registry image, and the staged digest is checked
// afterwards by the driver exactly as for an upgrade.
import type { BootcCapabilities } from './cli.js';
import { BootcRebaseError } from './errors.js';
import { imageName, transportRef } from './state.js';
import type { BootcImageRef } from './status.js';

/** The `bootc switch` a rebase runs. */
export interface SwitchPlan {
  /** Flags before the target, e.g. `['--download-only', '--transport', 'registry', '--enforce-container-sigpolicy']`. */
  readonly flags: readonly string[];
  /** The reference bootc will track: `<name>:<tag>`, or `<name>@sha256:…` when no tag applies. */
  readonly target: string;
}

/** The tag of `<name>:<tag>` (null for a bare name or a digest reference). */
function tagOf(image: string): string | null {
  if (image.includes('@')) return null;
  const bare = imageName(image);
  return image.length > bare.length ? image.slice(bare.length + 1) : null;
}

/**
 * Plans the switch from the booted reference to `target` (an image name, possibly with a tag or
 * digest, taken as given then). A bare name takes the booted tag: the host keeps following the same
 * channel in the new repository (`stable` there), so later updates stay `bootc upgrade`s; a host
 * booted by digest is pinned to `digest`. Throws BootcRebaseError when the rebase cannot be
 * staged as asked (see its reasons); nothing has run then.
 */
export function planSwitch(booted: BootcImageRef, target: string, digest: string | null, lock: boolean, caps: BootcCapabilities): SwitchPlan {
  if (booted.transport !== 'registry') {
    throw new BootcRebaseError('transport', `Rebasing is only supported from a registry image (booted ${transportRef(booted)}, asked ${target})`);
  }
  // `bootc switch` has no option naming an ostree remote: switching would drop that verification.
  if (booted.signature.kind === 'ostreeRemote') {
    throw new BootcRebaseError(
      'ostree_remote_signature',
      `Rebasing a host that verifies through the ostree remote '${booted.signature.remote}' is not supported by the bootc driver (bootc switch cannot keep that verification; asked ${target})`,
    );
  }
  if (lock && !caps.switchDownloadOnly) {
    throw new BootcRebaseError(
      'no_switch_download_only',
      `bootc ${caps.version ?? '(unknown version)'} has no 'switch --download-only' (bootc-dev/bootc#2342, after 1.16.5): cannot stage the rebase to ${target} with finalization locked`,
    );
  }
  const name = imageName(target);
  const tag = tagOf(booted.image);
  let ref = target;
  if (target === name) ref = tag !== null ? `${name}:${tag}` : digest !== null ? `${name}@${digest}` : name;
  const flags = [...(lock ? ['--download-only'] : []), '--transport', 'registry'];
  // Repeat an explicit containerPolicy (bootc then also refuses a policy.json whose default is
  // insecureAcceptAnything, as it does for the booted spec); an absent or `insecure` one stays as
  // bootc's default, which still pulls under policy.json (ALT Atomic's default accepts anything
  // outside its namespace, so forcing the flag there would refuse every rebase).
  if (booted.signature.kind === 'containerPolicy' && booted.signature.implied !== true) flags.push('--enforce-container-sigpolicy');
  return { flags, target: ref };
}
