// Pure: bootc's view of the host -> alt-ostreed's BackendState (what the rpm-ostree D-Bus properties
// show). Image deployments carry rpm-ostree's container keys: the reference in ostree-ext's syntax
// and the manifest digest (docs/development/dbus.md, "Image deployments").
import type { BackendDeployment, BackendState } from '../state.js';
import type { BootcEntry, BootcHost, BootcImageRef } from './status.js';

/** `<transport>:<image>` as containers/image spells it (bootc's `registry` is `docker://`). */
export function transportRef(ref: BootcImageRef): string {
  return ref.transport === 'registry' ? `docker://${ref.image}` : `${ref.transport}:${ref.image}`;
}

/**
 * The reference as rpm-ostree reports it in `container-image-reference` (ostree-ext's
 * `OstreeImageReference` display): `ostree-image-signed:docker://…` under the containers policy,
 * `ostree-remote-image:<remote>:…` for an ostree remote, `ostree-unverified-registry:…` /
 * `ostree-unverified-image:…` when unverified.
 */
export function imageReference(ref: BootcImageRef): string {
  switch (ref.signature.kind) {
    case 'containerPolicy':
      return `ostree-image-signed:${transportRef(ref)}`;
    case 'ostreeRemote':
      return `ostree-remote-image:${ref.signature.remote}:${transportRef(ref)}`;
    case 'insecure':
      return ref.transport === 'registry' ? `ostree-unverified-registry:${ref.image}` : `ostree-unverified-image:${transportRef(ref)}`;
  }
}

/** The image name without tag or digest (`registry:5000/alt/atomic:stable` -> `registry:5000/alt/atomic`). */
export function imageName(image: string): string {
  const at = image.indexOf('@');
  const bare = at >= 0 ? image.slice(0, at) : image;
  const slash = bare.lastIndexOf('/');
  const colon = bare.lastIndexOf(':');
  return colon > slash ? bare.slice(0, colon) : bare;
}

type Role = 'staged' | 'booted' | 'rollback' | 'other';

/** Boot order: staged first; the rollback before the booted one when it is queued for the next boot. */
function order(host: BootcHost): { entry: BootcEntry; role: Role }[] {
  const out: { entry: BootcEntry; role: Role }[] = [];
  if (host.staged) out.push({ entry: host.staged, role: 'staged' });
  const booted = host.booted ? [{ entry: host.booted, role: 'booted' as const }] : [];
  const rollback = host.rollback ? [{ entry: host.rollback, role: 'rollback' as const }] : [];
  out.push(...(host.rollbackQueued ? [...rollback, ...booted] : [...booted, ...rollback]));
  for (const entry of host.others) out.push({ entry, role: 'other' });
  return out;
}

/** Builds the state; `defaultStateroot` names entries older bootc prints without a stateroot. */
export function bootcState(host: BootcHost, defaultStateroot: string): BackendState {
  const entries = order(host);
  const bootedIndex = entries.findIndex((e) => e.role === 'booted');
  const deployments = entries.map(({ entry: e, role }, index): BackendDeployment => {
    const osname = e.stateroot ?? defaultStateroot;
    return {
      id: `${osname}-${e.checksum}.${e.serial}`,
      osname,
      checksum: e.checksum,
      serial: e.serial,
      index,
      booted: role === 'booted',
      staged: role === 'staged',
      pending: bootedIndex >= 0 && index < bootedIndex,
      rollback: role === 'rollback',
      finalizationLocked: role === 'staged' && e.locked,
      pinned: e.pinned,
      unlocked: 'none',
      version: e.image?.version ?? null,
      timestampSecs: e.image?.timestampSecs ?? 0,
      origin: null,
      imageReference: e.image ? imageReference(e.image.ref) : null,
      imageDigest: e.image?.digest ?? null,
    };
  });
  const osnames = [...new Set(deployments.map((d) => d.osname))];
  return { deployments, booted: deployments.find((d) => d.booted) ?? null, osnames };
}

/**
 * The image named by a reference in any of the spellings a client may send: ostree-ext's
 * (`ostree-image-signed:docker://…`, `ostree-remote-image:<remote>:docker://…`,
 * `ostree-unverified-registry:…`), a containers/image `docker://…`, or a bare `registry/repo:tag`.
 */
export function imageOfReference(ref: string): string {
  let s = ref;
  const remote = /^ostree-remote-image:[^:]+:/.exec(s);
  if (remote) s = s.slice(remote[0].length);
  else s = s.replace(/^ostree-(?:image-signed|unverified-image|unverified-registry):/, '');
  return s.replace(/^(?:docker:\/\/|registry:|oci:|oci-archive:|containers-storage:|dir:|docker-daemon:)/, '');
}
