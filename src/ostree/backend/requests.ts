// Pure translation of rpm-ostree method arguments into alt-ostreed requests, following
// rpmostreed-os.cxx / rpmostreed-transaction-types.cxx (defaults, exact-type option lookup).

/** One `a{sv}` entry with its D-Bus signature kept (rpm-ostree looks options up by exact type). */
export interface TypedValue {
  readonly signature: string;
  readonly value: unknown;
}

/** An `a{sv}` argument as the adapter hands it over. */
export type Options = Readonly<Record<string, TypedValue>>;

/** A deploy transaction (Deploy, UpdateDeployment). */
export interface DeployRequest {
  readonly kind: 'deploy';
  /** `set-revision`; null = follow the ref head (upgrade). */
  readonly revision: string | null;
  /** `set-refspec`; null = keep the origin. */
  readonly refspec: string | null;
  readonly lockFinalization: boolean;
  readonly allowDowngrade: boolean;
  readonly skipBranchCheck: boolean;
  readonly reboot: boolean;
  readonly cacheOnly: boolean;
  readonly downloadOnly: boolean;
  readonly dryRun: boolean;
  readonly registerDriver: string | null;
}

/** FinalizeDeployment. */
export interface FinalizeRequest {
  readonly kind: 'finalize';
  readonly checksum: string | null;
  readonly allowMissingChecksum: boolean;
  readonly allowUnlocked: boolean;
}

/** Cleanup. */
export interface CleanupRequest {
  readonly kind: 'cleanup';
  readonly elements: readonly ('base' | 'pending-deploy' | 'rollback-deploy' | 'repomd')[];
}

/** Rollback. */
export interface RollbackRequest {
  readonly kind: 'rollback';
  readonly reboot: boolean;
}

/** Any transaction's work. */
export type WorkRequest = DeployRequest | FinalizeRequest | CleanupRequest | RollbackRequest;

/** An argument rpm-ostree would accept but alt-ostreed cannot honour (answered NotSupported). */
export class UnsupportedRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedRequest';
  }
}

/** An argument rpm-ostree itself rejects (answered with its `…Code0` failure). */
export class InvalidRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequest';
  }
}

function bool(o: Options, key: string, fallback: boolean): boolean {
  const v = o[key];
  return v && v.signature === 'b' && typeof v.value === 'boolean' ? v.value : fallback;
}

function string(o: Options, key: string): string | null {
  const v = o[key];
  return v && v.signature === 's' && typeof v.value === 'string' ? v.value : null;
}

const PACKAGE_MODIFIERS = [
  'install-packages',
  'uninstall-packages',
  'override-remove-packages',
  'override-reset-packages',
  'override-replace-packages',
  'install-modules',
  'uninstall-modules',
  'enable-modules',
  'disable-modules',
  'install-local-packages',
  'install-fileoverride-local-packages',
  'override-replace-local-packages',
];

/** The title rpm-ostree shows for a transaction (`initiating-command-line` wins). */
export function transactionTitle(method: string, options: Options): string {
  const cmdline = string(options, 'initiating-command-line');
  if (cmdline) return cmdline;
  const titles: Record<string, string> = {
    Deploy: 'deploy',
    UpdateDeployment: 'update-deployment',
    FinalizeDeployment: 'finalize-deployment',
    Cleanup: 'cleanup',
    Rollback: 'rollback',
  };
  return titles[method] ?? method;
}

function deployFrom(modifiers: Options, options: Options, allowDowngradeDefault: boolean): DeployRequest {
  for (const k of PACKAGE_MODIFIERS) {
    const v = modifiers[k];
    if (v && Array.isArray(v.value) && v.value.length > 0) {
      throw new UnsupportedRequest(`modifier '${k}': package layering is not supported by alt-ostreed`);
    }
  }
  for (const k of ['custom-origin', 'treefile', 'ex-local-repo-remote']) {
    if (modifiers[k]) throw new UnsupportedRequest(`modifier '${k}' is not supported by alt-ostreed`);
  }
  if (bool(options, 'apply-live', false)) throw new UnsupportedRequest("option 'apply-live' is not supported by alt-ostreed");
  const revision = string(modifiers, 'set-revision');
  const refspec = string(modifiers, 'set-refspec');
  if (bool(options, 'no-pull-base', false) && (revision || refspec)) {
    throw new InvalidRequest('Cannot specify no-pull-base with a refspec or revision');
  }
  return {
    kind: 'deploy',
    revision,
    refspec,
    lockFinalization: bool(options, 'lock-finalization', false),
    // rpm-ostree computes the default before reading set-revision: only set-refspec turns it on.
    allowDowngrade: bool(options, 'allow-downgrade', allowDowngradeDefault || refspec !== null),
    skipBranchCheck: bool(options, 'skip-branch-check', false),
    reboot: bool(options, 'reboot', false),
    cacheOnly: bool(options, 'cache-only', false),
    downloadOnly: bool(options, 'download-only', false),
    dryRun: bool(options, 'dry-run', false),
    registerDriver: string(options, 'register-driver'),
  };
}

/** `Deploy(s revision, a{sv} options)`: adds `set-revision`; allow-downgrade defaults to true. */
export function deployRequest(revision: string, options: Options): DeployRequest {
  return deployFrom({ 'set-revision': { signature: 's', value: revision } }, options, true);
}

/** `UpdateDeployment(a{sv} modifiers, a{sv} options)`: modifiers as given; default flags off. */
export function updateDeploymentRequest(modifiers: Options, options: Options): DeployRequest {
  return deployFrom(modifiers, options, false);
}

/** `FinalizeDeployment(a{sv} options)`. */
export function finalizeRequest(options: Options): FinalizeRequest {
  return {
    kind: 'finalize',
    checksum: string(options, 'checksum'),
    allowMissingChecksum: bool(options, 'allow-missing-checksum', false),
    allowUnlocked: bool(options, 'allow-unlocked', false),
  };
}

/** `Cleanup(as elements)`; unknown elements fail as in rpm-ostree ("Invalid cleanup type: X"). */
export function cleanupRequest(elements: readonly string[]): CleanupRequest {
  const out: CleanupRequest['elements'][number][] = [];
  for (const e of elements) {
    if (e === 'base' || e === 'pending-deploy' || e === 'rollback-deploy' || e === 'repomd') out.push(e);
    else throw new InvalidRequest(`Invalid cleanup type: ${e}`);
  }
  return { kind: 'cleanup', elements: out };
}

/** `Rollback(a{sv} options)`: only `reboot` is honoured. */
export function rollbackRequest(options: Options): RollbackRequest {
  return { kind: 'rollback', reboot: bool(options, 'reboot', false) };
}
