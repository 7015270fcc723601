// Pure model of the sysroot as alt-ostreed reports it: built from a driver snapshot, rendered to
// rpm-ostree's deployment dict (as tagged values; the D-Bus adapter turns them into Variants).
import type { SysrootSnapshot } from './ostree-cli.js';

/** One deployment with every fact the D-Bus properties need. */
export interface BackendDeployment {
  /** rpm-ostree id: `<osname>-<checksum>.<serial>`. */
  readonly id: string;
  readonly osname: string;
  readonly checksum: string;
  readonly serial: number;
  /** Position in boot order (the index `ostree admin undeploy` takes). */
  readonly index: number;
  readonly booted: boolean;
  readonly staged: boolean;
  /** Before the booted deployment in boot order (the next boot), staged included. */
  readonly pending: boolean;
  readonly rollback: boolean;
  readonly finalizationLocked: boolean;
  readonly pinned: boolean;
  readonly unlocked: string;
  readonly version: string | null;
  /** Commit timestamp in seconds (0 when unknown). */
  readonly timestampSecs: number;
  readonly origin: string | null;
  /**
   * The image the deployment came from, in ostree-ext's syntax as rpm-ostree reports it (e.g.
   * `ostree-image-signed:docker://registry.example/alt/atomic:stable`); null for ostree-ref deployments.
   */
  readonly imageReference: string | null;
  /** The image's manifest digest (`sha256:<64 hex>`) when `imageReference` is set. */
  readonly imageDigest: string | null;
}

/** The whole sysroot. */
export interface BackendState {
  /** Boot order, staged first when present. */
  readonly deployments: readonly BackendDeployment[];
  readonly booted: BackendDeployment | null;
  /** Stateroots that have at least one deployment, in first-seen order. */
  readonly osnames: readonly string[];
}

/** Builds the state from one driver snapshot. */
export function buildState(snap: SysrootSnapshot): BackendState {
  const bootedIndex = snap.entries.findIndex((e) => e.booted);
  const deployments = snap.entries.map((e, index): BackendDeployment => {
    const commit = snap.commits.get(e.checksum);
    return {
      id: `${e.osname}-${e.checksum}.${e.serial}`,
      osname: e.osname,
      checksum: e.checksum,
      serial: e.serial,
      index,
      booted: e.booted,
      staged: e.staged,
      pending: bootedIndex >= 0 ? index < bootedIndex : false,
      rollback: e.rollback,
      // rpm-ostree: staged AND the lock file exists (newer ostree may also report it itself).
      finalizationLocked: e.staged && (snap.lockFilePresent || e.lockedByOstree),
      pinned: e.pinned,
      unlocked: e.unlocked,
      version: e.version ?? commit?.version ?? null,
      timestampSecs: commit?.timestampSecs ?? 0,
      origin: e.origin,
      imageReference: null,
      imageDigest: null,
    };
  });
  const osnames = [...new Set(deployments.map((d) => d.osname))];
  return { deployments, booted: deployments.find((d) => d.booted) ?? null, osnames };
}

/**
 * `ostree_sysroot_query_deployments_for`: for `osname`, the first deployment before the booted one
 * (pending) and the first after it (rollback). Without a booted deployment, the first is pending.
 */
export function queryDeploymentsFor(
  state: BackendState,
  osname: string,
): { pending: BackendDeployment | null; rollback: BackendDeployment | null } {
  const mine = state.deployments.filter((d) => d.osname === osname && !d.booted);
  if (state.booted === null) return { pending: mine[0] ?? null, rollback: null };
  const bootedIndex = state.booted.index;
  return {
    pending: mine.find((d) => d.index < bootedIndex) ?? null,
    rollback: mine.find((d) => d.index > bootedIndex) ?? null,
  };
}

/** A value of rpm-ostree's deployment dict, tagged with its D-Bus type. */
export type DictValue =
  | { readonly type: 's'; readonly value: string }
  | { readonly type: 'b'; readonly value: boolean }
  | { readonly type: 'i'; readonly value: number }
  | { readonly type: 't'; readonly value: bigint }
  | { readonly type: 'as'; readonly value: readonly string[] }
  | { readonly type: 'a{sv}'; readonly value: Readonly<Record<string, DictValue>> };

/** A deployment dict (`a{sv}`) as tagged values. */
export type DeploymentDict = Readonly<Record<string, DictValue>>;

const s = (value: string): DictValue => ({ type: 's', value });
const b = (value: boolean): DictValue => ({ type: 'b', value });
const EMPTY_AS: DictValue = { type: 'as', value: [] };

/** rpm-ostree's dict for one deployment (keys without meaning on a package-less system stay empty). */
export function deploymentDict(d: BackendDeployment): DeploymentDict {
  const dict: Record<string, DictValue> = {
    id: s(d.id),
    osname: s(d.osname),
    serial: { type: 'i', value: d.serial },
    checksum: s(d.checksum),
    booted: b(d.booted),
    staged: b(d.staged),
    pinned: b(d.pinned),
    unlocked: s(d.unlocked),
    'regenerate-initramfs': b(false),
    'base-commit-meta': {
      type: 'a{sv}',
      value: {
        ...(d.version !== null ? { version: s(d.version) } : {}),
        ...(d.imageDigest !== null ? { 'ostree.manifest-digest': s(d.imageDigest) } : {}),
      },
    },
  };
  if (d.version !== null) dict.version = s(d.version);
  if (d.timestampSecs > 0) dict.timestamp = { type: 't', value: BigInt(d.timestampSecs) };
  if (d.origin !== null) {
    dict.origin = s(d.origin);
    if (d.origin.includes(':')) dict['gpg-enabled'] = b(false);
  }
  // rpm-ostree's keys for a container origin (docs/development/dbus.md: the image contract).
  if (d.imageReference !== null) dict['container-image-reference'] = s(d.imageReference);
  if (d.imageDigest !== null) dict['container-image-reference-digest'] = s(d.imageDigest);
  // Only present when true, as in rpm-ostree.
  if (d.finalizationLocked) dict['finalization-locked'] = b(true);
  for (const k of [
    'packages',
    'requested-packages',
    'requested-local-packages',
    'requested-local-fileoverride-packages',
    'requested-base-removals',
    'requested-base-local-replacements',
  ]) {
    dict[k] = EMPTY_AS;
  }
  return dict;
}
