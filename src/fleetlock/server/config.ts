// alt-fleetlockd configuration: TOML file or command-line quick start, validated into a frozen
// ServerConfig. Every error names the file and the key. Unknown keys are errors: a typo in a token
// or slot key must not silently leave a group open or closed.
import { parse as parseToml, TomlError } from 'smol-toml';
import { WEEKDAYS, type Weekday } from '../../config/types.js';
import { FleetLockConfigError } from '../errors.js';
import { GROUP_PATTERN } from '../protocol.js';
import { DEFAULT_HALT_WINDOW_MS, type HaltPolicy } from './halt.js';
import type { MaintenanceWindow } from './windows.js';

/** One lock group. */
export interface GroupConfig {
  /** Group name, matching the protocol's group pattern. */
  readonly name: string;
  /** Maximum concurrent holders (>= 1). */
  readonly slots: number;
  /** Bearer token nodes of this group must present; null = no auth for this group. @default null */
  readonly token: string | null;
  /** Release holders not renewed for this long, in ms; null = never. @default null */
  readonly staleAfterMs: number | null;
  /** Weekly UTC windows in which pre-reboot is allowed; empty = always. @default [] */
  readonly windows: readonly MaintenanceWindow[];
  /** When failed or rolled-back updates halt the group. @default never (failures counted over one day) */
  readonly halt: HaltPolicy;
}

/** Where locks are stored. */
export type StoreConfig =
  | { readonly kind: 'embedded'; readonly stateDir: string }
  | {
      readonly kind: 'etcd';
      readonly endpoints: readonly string[];
      readonly prefix: string;
      readonly timeoutMs: number;
      /** TLS towards etcd (https endpoints): extra CA, client certificate and key files (PEM). @default all unset */
      readonly tls?: EtcdTlsConfig;
      /** etcd user authentication; null = none. @default null */
      readonly auth?: { readonly username: string; readonly passwordFile: string } | null;
    };

/** TLS files for the etcd client; each null when unset. The CA file adds to the host's CA store. */
export interface EtcdTlsConfig {
  /** `store.etcd.ca_file`. @default null */
  readonly caFile: string | null;
  /** `store.etcd.cert_file` (client certificate, for etcd's --client-cert-auth). @default null */
  readonly certFile: string | null;
  /** `store.etcd.key_file`. @default null */
  readonly keyFile: string | null;
}

/** Validated server configuration. */
export interface ServerConfig {
  /** Listen address. @default 127.0.0.1:9473 */
  readonly listen: { readonly host: string; readonly port: number };
  /**
   * TLS key and certificate files (PEM); null = plain HTTP. With `clientCaFile`, every request must
   * come with a client certificate signed by a CA in that file. @default null
   */
  readonly tls: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string | null } | null;
  /** Token for the admin API; null disables it. @default null */
  readonly adminToken: string | null;
  /** Lock store. @default embedded in /var/lib/alt-fleetlockd */
  readonly store: StoreConfig;
  /** Configured groups by name. */
  readonly groups: ReadonlyMap<string, GroupConfig>;
  /** How often stale holders are swept, in ms. @default 30000 */
  readonly sweepIntervalMs: number;
}

/** Default listen address. */
export const DEFAULT_LISTEN = '127.0.0.1:9473';
/** Default state directory of the embedded store. */
export const DEFAULT_STATE_DIR = '/var/lib/alt-fleetlockd';

type Table = Record<string, unknown>;

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

class Ctx {
  constructor(readonly file: string) {}
  fail(key: string, msg: string): never {
    throw new FleetLockConfigError(`${this.file}: '${key}': ${msg}`);
  }
  keys(t: Table, where: string, allowed: string[]): void {
    for (const k of Object.keys(t)) if (!allowed.includes(k)) this.fail(where ? `${where}.${k}` : k, 'unknown key');
  }
  str(t: Table, where: string, key: string): string | null {
    const v = t[key];
    if (v === undefined) return null;
    if (typeof v !== 'string' || v.length === 0) this.fail(`${where}${key}`, 'must be a non-empty string');
    return v;
  }
  int(t: Table, where: string, key: string, min: number, max: number): number | null {
    const v = t[key];
    if (v === undefined) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`${where}${key}`, `must be an integer in ${min}..${max}`);
    }
    return v;
  }
  table(t: Table, where: string, key: string): Table {
    const v = t[key];
    if (v === undefined) return {};
    if (!isTable(v)) this.fail(`${where}${key}`, 'must be a table');
    return v;
  }
}

/** Parses `HOST:PORT` (IPv6 as `[::1]:PORT`); throws a message on bad input. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`'${text}' is not HOST:PORT`);
  return { host: m[1] ?? m[2]!, port };
}

function parseDay(text: string): Weekday | null {
  const t = text.slice(0, 3).toLowerCase();
  const full = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
  const idx = WEEKDAYS.findIndex((d) => d.toLowerCase() === t);
  if (idx < 0 || (text.length > 3 && text.toLowerCase() !== full[idx])) return null;
  return WEEKDAYS[idx]!;
}

function parseWindow(c: Ctx, raw: unknown, where: string): MaintenanceWindow {
  if (!isTable(raw)) c.fail(where, 'must be a table');
  c.keys(raw, where, ['days', 'start_time', 'length_minutes']);
  const days = raw['days'];
  if (!Array.isArray(days) || days.length === 0) c.fail(`${where}.days`, 'must be a non-empty list of week days');
  const parsedDays: Weekday[] = [];
  for (const d of days as unknown[]) {
    const day = typeof d === 'string' ? parseDay(d) : null;
    if (day === null) c.fail(`${where}.days`, `'${String(d)}' is not a week day (Mon..Sun)`);
    if (!parsedDays.includes(day)) parsedDays.push(day);
  }
  const start = c.str(raw, `${where}.`, 'start_time');
  const sm = start === null ? null : /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(start);
  if (!sm) c.fail(`${where}.start_time`, "must be 'HH:MM' (UTC)");
  const length = c.int(raw, `${where}.`, 'length_minutes', 1, 10080);
  if (length === null) c.fail(`${where}.length_minutes`, 'is required');
  return {
    days: parsedDays.sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b)),
    startMinutes: Number(sm[1]) * 60 + Number(sm[2]),
    lengthMinutes: length,
  };
}

function parseGroup(c: Ctx, name: string, raw: unknown): GroupConfig {
  const where = `groups.${name}`;
  if (!GROUP_PATTERN.test(name)) c.fail(where, 'group names must match ^[a-zA-Z0-9.-]+$');
  if (!isTable(raw)) c.fail(where, 'must be a table');
  c.keys(raw, where, ['slots', 'token', 'stale_after_secs', 'windows', 'halt_after_failures', 'halt_window_secs']);
  const stale = c.int(raw, `${where}.`, 'stale_after_secs', 0, 10 * 365 * 86400);
  const haltAfter = c.int(raw, `${where}.`, 'halt_after_failures', 0, 1_000_000);
  const haltWindow = c.int(raw, `${where}.`, 'halt_window_secs', 1, 365 * 86400);
  const windows = raw['windows'];
  if (windows !== undefined && !Array.isArray(windows)) c.fail(`${where}.windows`, 'must be an array of tables ([[groups.NAME.windows]])');
  return {
    name,
    slots: c.int(raw, `${where}.`, 'slots', 1, 1_000_000) ?? 1,
    token: c.str(raw, `${where}.`, 'token'),
    staleAfterMs: stale === null || stale === 0 ? null : stale * 1000,
    windows: ((windows ?? []) as unknown[]).map((w, i) => parseWindow(c, w, `${where}.windows[${i}]`)),
    halt: { afterFailures: haltAfter === null || haltAfter === 0 ? null : haltAfter, windowMs: haltWindow === null ? DEFAULT_HALT_WINDOW_MS : haltWindow * 1000 },
  };
}

function parseStore(c: Ctx, t: Table): StoreConfig {
  c.keys(t, 'store', ['type', 'state_dir', 'etcd']);
  const type = c.str(t, 'store.', 'type') ?? 'embedded';
  if (type === 'embedded') {
    if (t['etcd'] !== undefined) c.fail('store.etcd', "only allowed with type = 'etcd'");
    return { kind: 'embedded', stateDir: c.str(t, 'store.', 'state_dir') ?? DEFAULT_STATE_DIR };
  }
  if (type !== 'etcd') c.fail('store.type', "must be 'embedded' or 'etcd'");
  if (t['state_dir'] !== undefined) c.fail('store.state_dir', "only allowed with type = 'embedded'");
  const e = c.table(t, 'store.', 'etcd');
  c.keys(e, 'store.etcd', ['endpoints', 'prefix', 'timeout_ms', 'ca_file', 'cert_file', 'key_file', 'username', 'password_file']);
  const eps = e['endpoints'];
  if (!Array.isArray(eps) || eps.length === 0) c.fail('store.etcd.endpoints', 'must be a non-empty list of URLs');
  const endpoints = (eps as unknown[]).map((ep, i) => {
    let ok = false;
    try {
      ok = typeof ep === 'string' && ['http:', 'https:'].includes(new URL(ep).protocol);
    } catch {
      ok = false;
    }
    if (!ok) c.fail(`store.etcd.endpoints[${i}]`, 'must be an http:// or https:// URL');
    return ep as string;
  });
  const prefix = c.str(e, 'store.etcd.', 'prefix') ?? '/alt-fleetlockd';
  if (!prefix.startsWith('/')) c.fail('store.etcd.prefix', "must start with '/'");
  const tls = { caFile: c.str(e, 'store.etcd.', 'ca_file'), certFile: c.str(e, 'store.etcd.', 'cert_file'), keyFile: c.str(e, 'store.etcd.', 'key_file') };
  if ((tls.certFile === null) !== (tls.keyFile === null)) c.fail(tls.certFile === null ? 'store.etcd.cert_file' : 'store.etcd.key_file', 'cert_file and key_file go together');
  const username = c.str(e, 'store.etcd.', 'username');
  const passwordFile = c.str(e, 'store.etcd.', 'password_file');
  if ((username === null) !== (passwordFile === null)) c.fail(username === null ? 'store.etcd.username' : 'store.etcd.password_file', 'username and password_file go together');
  return {
    kind: 'etcd',
    endpoints,
    prefix: prefix.replace(/\/+$/, ''),
    timeoutMs: c.int(e, 'store.etcd.', 'timeout_ms', 100, 600_000) ?? 3000,
    tls,
    auth: username === null || passwordFile === null ? null : { username, passwordFile },
  };
}

/** Validates a decoded TOML document (`file` only names the source in errors). */
export function validateConfig(doc: Table, file: string): ServerConfig {
  const c: Ctx = new Ctx(file);
  c.keys(doc, '', ['listen', 'admin_token', 'sweep_interval_secs', 'tls', 'store', 'groups']);
  const listenText = c.str(doc, '', 'listen') ?? DEFAULT_LISTEN;
  let listen: { host: string; port: number };
  try {
    listen = parseListen(listenText);
  } catch (err: unknown) {
    c.fail('listen', (err as Error).message);
  }
  let tls: ServerConfig['tls'] = null;
  if (doc['tls'] !== undefined) {
    const t = c.table(doc, '', 'tls');
    c.keys(t, 'tls', ['cert_file', 'key_file', 'client_ca_file']);
    const certFile = c.str(t, 'tls.', 'cert_file');
    const keyFile = c.str(t, 'tls.', 'key_file');
    if (certFile === null || keyFile === null) c.fail('tls', 'needs both cert_file and key_file');
    const clientCaFile = c.str(t, 'tls.', 'client_ca_file');
    tls = clientCaFile === null ? { certFile, keyFile } : { certFile, keyFile, clientCaFile };
  }
  const groupsRaw = c.table(doc, '', 'groups');
  const groups = new Map<string, GroupConfig>();
  for (const [name, raw] of Object.entries(groupsRaw)) groups.set(name, parseGroup(c, name, raw));
  if (groups.size === 0) c.fail('groups', 'at least one group is required, e.g. [groups.default] slots = 1');
  return {
    listen,
    tls,
    adminToken: c.str(doc, '', 'admin_token'),
    store: parseStore(c, c.table(doc, '', 'store')),
    groups,
    sweepIntervalMs: (c.int(doc, '', 'sweep_interval_secs', 1, 86400) ?? 30) * 1000,
  };
}

/** Parses and validates TOML text read from `file`. */
export function parseConfigText(text: string, file: string): ServerConfig {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (err: unknown) {
    const where = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : '';
    throw new FleetLockConfigError(`${file}: invalid TOML${where}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return validateConfig(doc, file);
}
