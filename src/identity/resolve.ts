// I/O shell of identity: reads machine-id, the kernel command line and os-release under `root`, then
// hands the text to the pure parsers. Errors name the file that was at fault.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deepFreeze, STREAM_RE } from '../config/settings.js';
import type { Settings } from '../config/types.js';
import { IdentityError } from './errors.js';
import type { Identity, IdentityField, IdentitySource } from './identity.js';
import { appSpecificId, asNodeUuid, parseMachineId, type NodeUuid } from './node-id.js';
import { parseOsRelease, streamFromOsRelease } from './os-release.js';
import { basearchFromNodeArch, platformFromCmdline } from './platform.js';

/** Inputs of `resolveIdentity`. */
export interface ResolveIdentityOptions {
  /** Directory `etc/machine-id`, `proc/cmdline` and the os-release files are read under. @default "/" */
  readonly root?: string;
  /** Validated settings (overrides in `[identity]`). */
  readonly settings: Settings;
  /** Stream of the booted deployment's origin ref, when the ostree backend knows it. */
  readonly bootedStream?: string | null;
  /** Node-style architecture; @default process.arch */
  readonly arch?: string;
  /** `LoadedSettings.origins`: tells `config` from `default` for keys with a default value. */
  readonly origins?: Readonly<Record<string, string>>;
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err: unknown) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new IdentityError('IDENTITY_OS_RELEASE', `${path}: cannot read: ${String(code ?? err)}`, { cause: err });
  }
}

function field<T>(value: T, source: IdentitySource, detail: string | null = null): IdentityField<T> {
  return { value, source, detail };
}

async function resolveNodeUuid(root: string, settings: Settings, origins: Readonly<Record<string, string>> | undefined): Promise<IdentityField<NodeUuid>> {
  if (settings.identity.nodeUuid !== null) {
    return field(asNodeUuid(settings.identity.nodeUuid), 'config', origins?.['identity.node_uuid'] ?? null);
  }
  const path = join(root, 'etc/machine-id');
  let text: string | null;
  try {
    text = await readOptional(path);
  } catch (err: unknown) {
    throw new IdentityError('IDENTITY_MACHINE_ID', `${path}: cannot read machine id`, { cause: err });
  }
  if (text === null) throw new IdentityError('IDENTITY_MACHINE_ID', `${path}: missing; set identity.node_uuid or initialise the machine id`);
  return field(appSpecificId(parseMachineId(text, path)), 'machine-id', path);
}

async function resolveStream(root: string, settings: Settings, bootedStream: string | null | undefined, origins: Readonly<Record<string, string>> | undefined): Promise<IdentityField<string>> {
  if (settings.identity.stream !== null) return field(settings.identity.stream, 'config', origins?.['identity.stream'] ?? null);
  if (bootedStream !== undefined && bootedStream !== null) {
    if (!STREAM_RE.test(bootedStream)) {
      throw new IdentityError('IDENTITY_INVALID', `booted deployment stream: expected a stream name, got ${JSON.stringify(bootedStream)}`);
    }
    return field(bootedStream, 'deployment', 'booted deployment origin');
  }
  for (const rel of ['etc/os-release', 'usr/lib/os-release']) {
    const path = join(root, rel);
    const text = await readOptional(path);
    if (text !== null) return field(streamFromOsRelease(parseOsRelease(text), path), 'os-release', `${path} ALT_BRANCH_ID`);
  }
  throw new IdentityError('IDENTITY_OS_RELEASE', `${join(root, 'etc/os-release')}: missing (and ${join(root, 'usr/lib/os-release')}); set identity.stream`);
}

/** Resolves the node identity from settings and the files under `root`. Throws `IdentityError`. */
export async function resolveIdentity(opts: ResolveIdentityOptions): Promise<Identity> {
  const root = opts.root ?? '/';
  const { settings, origins } = opts;
  const arch = opts.arch ?? process.arch;
  const cmdlinePath = join(root, 'proc/cmdline');
  const cmdline = await readOptional(cmdlinePath).catch(() => null);
  const platform = cmdline === null ? null : platformFromCmdline(cmdline);
  const groupFromConfig = origins ? 'identity.group' in origins : settings.identity.group !== 'default';
  const wariness = settings.identity.rolloutWariness;
  return deepFreeze<Identity>({
    nodeUuid: await resolveNodeUuid(root, settings, origins),
    group: field(settings.identity.group, groupFromConfig ? 'config' : 'default', origins?.['identity.group'] ?? null),
    basearch: field(basearchFromNodeArch(arch), 'runtime', `process.arch=${arch}`),
    platform: platform === null ? field(null, 'default', null) : field(platform, 'cmdline', cmdlinePath),
    stream: await resolveStream(root, settings, opts.bootedStream, origins),
    rolloutWariness: wariness === null ? field(null, 'default', null) : field(wariness, 'config', origins?.['identity.rollout_wariness'] ?? null),
  });
}
