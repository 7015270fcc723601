// alt-fleetlockd command line: `--config FILE`, or a quick start with `--listen`, `--group`, `--state-dir`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeUtf8File } from '../../common/utf8.js';
import { FleetLockConfigError } from '../errors.js';
import { GROUP_PATTERN } from '../protocol.js';
import { NEVER_HALT } from './halt.js';
import { DEFAULT_LISTEN, DEFAULT_STATE_DIR, parseConfigText, parseListen, type GroupConfig, type ServerConfig } from './config.js';

/** Usage text. */
export const USAGE = `usage: alt-fleetlockd --config FILE [--log-format journal|json] [--log-level LEVEL]
       alt-fleetlockd --listen HOST:PORT --group NAME=SLOTS [--group ...] [--state-dir DIR]
                      [--admin-token-file FILE] [--log-format journal|json] [--log-level LEVEL]`;

/** Parsed command line. */
export interface ServerArgs {
  /** Where the configuration came from: a file (reloadable with SIGHUP) or the flags. */
  readonly source: { readonly kind: 'file'; readonly path: string } | { readonly kind: 'flags' };
  /** The validated configuration. */
  readonly config: ServerConfig;
  /** Log output format. @default journal */
  readonly logFormat: 'journal' | 'json';
  /** pino level. @default info */
  readonly logLevel: string;
  /** True for --help. */
  readonly help: boolean;
}

/** Reads and validates a config file. */
export function loadConfigFile(path: string): ServerConfig {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err: unknown) {
    throw new FleetLockConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const text = decodeUtf8File(bytes, path);
  if (!text.ok) throw new FleetLockConfigError(text.message);
  return parseConfigText(text.text, path);
}

/** Parses argv (without node and script); throws FleetLockConfigError on bad flags. */
export function parseServerArgs(argv: string[]): ServerArgs {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        group: { type: 'string', multiple: true },
        'state-dir': { type: 'string' },
        'admin-token-file': { type: 'string' },
        'log-format': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err: unknown) {
    throw new FleetLockConfigError(`${(err as Error).message}\n${USAGE}`);
  }
  const logFormat = v['log-format'] ?? 'journal';
  if (logFormat !== 'journal' && logFormat !== 'json') throw new FleetLockConfigError(`--log-format must be journal or json\n${USAGE}`);
  const common = { logFormat, logLevel: v['log-level'] ?? 'info', help: v.help === true } as const;
  if (v.help) return { ...common, source: { kind: 'flags' }, config: quickConfig([], undefined, undefined, null) };
  if (v.config !== undefined) {
    if (v.listen !== undefined || v.group !== undefined || v['state-dir'] !== undefined || v['admin-token-file'] !== undefined) {
      throw new FleetLockConfigError(`--config cannot be combined with --listen, --group, --state-dir or --admin-token-file\n${USAGE}`);
    }
    return { ...common, source: { kind: 'file', path: v.config }, config: loadConfigFile(v.config) };
  }
  if (v.group === undefined) throw new FleetLockConfigError(`either --config FILE or at least one --group NAME=SLOTS is required\n${USAGE}`);
  let adminToken: string | null = null;
  if (v['admin-token-file'] !== undefined) {
    try {
      adminToken = readFileSync(v['admin-token-file'], 'utf8').trim() || null;
    } catch (err: unknown) {
      throw new FleetLockConfigError(`cannot read --admin-token-file: ${(err as Error).message}`, { cause: err });
    }
    if (adminToken === null) throw new FleetLockConfigError('--admin-token-file is empty');
  }
  return { ...common, source: { kind: 'flags' }, config: quickConfig(v.group, v.listen, v['state-dir'], adminToken) };
}

function quickConfig(groups: string[], listenText: string | undefined, stateDir: string | undefined, adminToken: string | null): ServerConfig {
  let listen;
  try {
    listen = parseListen(listenText ?? DEFAULT_LISTEN);
  } catch (err: unknown) {
    throw new FleetLockConfigError(`--listen: ${(err as Error).message}`);
  }
  const map = new Map<string, GroupConfig>();
  for (const g of groups) {
    const m = /^([^=]+)=(\d{1,7})$/.exec(g);
    if (!m || !GROUP_PATTERN.test(m[1]!) || Number(m[2]) < 1) {
      throw new FleetLockConfigError(`--group '${g}': expected NAME=SLOTS with NAME matching ^[a-zA-Z0-9.-]+$ and SLOTS >= 1`);
    }
    if (map.has(m[1]!)) throw new FleetLockConfigError(`--group '${m[1]}' given twice`);
    map.set(m[1]!, { name: m[1]!, slots: Number(m[2]), token: null, staleAfterMs: null, windows: [], halt: NEVER_HALT });
  }
  return {
    listen,
    tls: null,
    adminToken,
    store: { kind: 'embedded', stateDir: stateDir ?? DEFAULT_STATE_DIR },
    groups: map,
    sweepIntervalMs: 30_000,
  };
}
