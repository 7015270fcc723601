// alt-ostreed configuration: TOML file -> validated, frozen BackendConfig (pure parsing; I/O in load).
import { readFile } from 'node:fs/promises';
import { parse as parseToml } from 'smol-toml';
import { decodeUtf8File } from '../../common/utf8.js';
import { BackendConfigError } from './errors.js';

/** Methods a non-root caller may be granted (everything else is root-only). */
export const GRANTABLE_METHODS = [
  'RegisterClient',
  'UnregisterClient',
  'Reload',
  'GetOS',
  'Deploy',
  'UpdateDeployment',
  'FinalizeDeployment',
  'Cleanup',
  'Rollback',
] as const;

/** Validated backend configuration. */
export interface BackendConfig {
  /** Remote to pull from; null = the remote of the deployment's origin refspec. @default null */
  readonly remote: string | null;
  /** Prefix for every ostree/helper command (fake-boot wrapper in tests); empty on a real host. @default [] */
  readonly commandPrefix: readonly string[];
  /** Command run to reboot after FinalizeDeployment. @default ["systemctl", "reboot"] */
  readonly rebootCommand: readonly string[];
  /** Per-transaction peer-to-peer socket; bound as `<socket>.d/<name>` (transaction.ts `privateSocketPath`). @default "/run/rpm-ostree-transaction.sock" */
  readonly transactionSocket: string;
  /** Seconds after a transaction finished before lingering peers are disconnected. @default 30 */
  readonly forceCloseSecs: number;
  /** Value of the `AutomaticUpdatePolicy` property. @default "none" */
  readonly automaticUpdatePolicy: string;
  /** Non-root users (names or numeric uids) allowed to call `methods`. @default [] */
  readonly users: readonly string[];
  /** Methods granted to `users`. @default all of GRANTABLE_METHODS */
  readonly methods: readonly string[];
  /** Host driver: `auto` probes for a bootc host (bootc at `bootcPath`, booted from an image), else ostree. @default "auto" */
  readonly driver: 'auto' | 'ostree' | 'bootc';
  /** The bootc executable (`[bootc] path`). @default "/usr/bin/bootc" */
  readonly bootcPath: string;
  /** The containers signature policy bootc enforces, named in refusal messages (`[bootc] policy`). @default "/etc/containers/policy.json" */
  readonly signaturePolicy: string;
}

/** Defaults used when no file or key is given. */
export const DEFAULT_CONFIG: BackendConfig = Object.freeze({
  remote: null,
  commandPrefix: Object.freeze([]),
  rebootCommand: Object.freeze(['systemctl', 'reboot']),
  transactionSocket: '/run/rpm-ostree-transaction.sock',
  forceCloseSecs: 30,
  automaticUpdatePolicy: 'none',
  users: Object.freeze([]),
  methods: Object.freeze([...GRANTABLE_METHODS]),
  driver: 'auto',
  bootcPath: '/usr/bin/bootc',
  signaturePolicy: '/etc/containers/policy.json',
});

function table(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BackendConfigError(`${where}: expected a table`);
  return v as Record<string, unknown>;
}

function strings(v: unknown, where: string, fallback: readonly string[]): readonly string[] {
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new BackendConfigError(`${where}: expected an array of strings`);
  }
  return Object.freeze([...(v as string[])]);
}

function str(v: unknown, where: string, fallback: string): string {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || v === '') throw new BackendConfigError(`${where}: expected a non-empty string`);
  return v;
}

/** Validates parsed TOML into a BackendConfig; `file` names the source in error messages. */
export function parseBackendConfig(doc: Record<string, unknown>, file: string): BackendConfig {
  const known = new Set(['ostree', 'authorization', 'transaction', 'bootc']);
  for (const k of Object.keys(doc)) if (!known.has(k)) throw new BackendConfigError(`${file}: unknown section [${k}]`);
  const o = table(doc.ostree, `${file}: [ostree]`);
  const a = table(doc.authorization, `${file}: [authorization]`);
  const t = table(doc.transaction, `${file}: [transaction]`);
  const bc = table(doc.bootc, `${file}: [bootc]`);
  for (const k of Object.keys(bc)) {
    if (!['driver', 'path', 'policy'].includes(k)) throw new BackendConfigError(`${file}: bootc.${k}: unknown key`);
  }
  const driver = str(bc.driver, `${file}: bootc.driver`, DEFAULT_CONFIG.driver);
  if (driver !== 'auto' && driver !== 'ostree' && driver !== 'bootc') {
    throw new BackendConfigError(`${file}: bootc.driver: expected auto, ostree or bootc`);
  }
  const methods = strings(a.methods, `${file}: authorization.methods`, DEFAULT_CONFIG.methods);
  for (const m of methods) {
    if (!(GRANTABLE_METHODS as readonly string[]).includes(m)) {
      throw new BackendConfigError(`${file}: authorization.methods: unknown method '${m}'`);
    }
  }
  const reboot = strings(o['reboot-command'], `${file}: ostree.reboot-command`, DEFAULT_CONFIG.rebootCommand);
  if (reboot.length === 0) throw new BackendConfigError(`${file}: ostree.reboot-command: must not be empty`);
  const closeSecs = t['force-close-timeout-secs'] ?? DEFAULT_CONFIG.forceCloseSecs;
  if (typeof closeSecs !== 'number' || !(closeSecs >= 0)) {
    throw new BackendConfigError(`${file}: transaction.force-close-timeout-secs: expected a number >= 0`);
  }
  const policy = str(o['automatic-update-policy'], `${file}: ostree.automatic-update-policy`, 'none');
  if (!['none', 'check', 'stage', 'apply'].includes(policy)) {
    throw new BackendConfigError(`${file}: ostree.automatic-update-policy: expected none, check, stage or apply`);
  }
  return Object.freeze({
    remote: o.remote === undefined ? null : str(o.remote, `${file}: ostree.remote`, ''),
    commandPrefix: strings(o['command-prefix'], `${file}: ostree.command-prefix`, DEFAULT_CONFIG.commandPrefix),
    rebootCommand: reboot,
    transactionSocket: str(t.socket, `${file}: transaction.socket`, DEFAULT_CONFIG.transactionSocket),
    forceCloseSecs: closeSecs,
    automaticUpdatePolicy: policy,
    users: strings(a.users, `${file}: authorization.users`, DEFAULT_CONFIG.users),
    methods,
    driver,
    bootcPath: str(bc.path, `${file}: bootc.path`, DEFAULT_CONFIG.bootcPath),
    signaturePolicy: str(bc.policy, `${file}: bootc.policy`, DEFAULT_CONFIG.signaturePolicy),
  });
}

/** Reads and validates the config file; a missing file gives the defaults. */
export async function loadBackendConfig(file: string | null): Promise<BackendConfig> {
  if (file === null) return DEFAULT_CONFIG;
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_CONFIG;
    throw new BackendConfigError(`${file}: cannot read`, err);
  }
  const text = decodeUtf8File(bytes, file);
  if (!text.ok) throw new BackendConfigError(text.message);
  try {
    return parseBackendConfig(parseToml(text.text) as Record<string, unknown>, file);
  } catch (err: unknown) {
    if (err instanceof BackendConfigError) throw err;
    throw new BackendConfigError(`${file}: invalid TOML: ${(err as Error).message}`, err);
  }
}

/** Resolves user names to uids from passwd-format text; numeric entries are taken as uids. */
export function resolveUids(users: readonly string[], passwd: string): { uids: number[]; unknown: string[] } {
  const byName = new Map<string, number>();
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && /^\d+$/.test(f[2]!)) byName.set(f[0], Number(f[2]));
  }
  const uids: number[] = [];
  const unknown: string[] = [];
  for (const u of users) {
    if (/^\d+$/.test(u)) uids.push(Number(u));
    else if (byName.has(u)) uids.push(byName.get(u)!);
    else unknown.push(u);
  }
  return { uids, unknown };
}
