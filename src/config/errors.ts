// Typed configuration errors and warnings. Codes are stable and listed in docs/reference/errors.md;
// a unit test keeps that table and `CONFIG_ERROR_CODES` / `CONFIG_WARNING_CODES` in sync.
import { AltError } from '../common/errors.js';

/** Stable codes of configuration errors (each aborts loading; nothing is applied). */
export type ConfigErrorCode = 'CONFIG_READ' | 'CONFIG_SYNTAX' | 'CONFIG_INVALID' | 'CONFIG_STRICT' | 'CONFIG_TEMPLATE';

/** Every configuration error code, for the docs sync test. */
export const CONFIG_ERROR_CODES: readonly ConfigErrorCode[] = [
  'CONFIG_READ',
  'CONFIG_SYNTAX',
  'CONFIG_INVALID',
  'CONFIG_STRICT',
  'CONFIG_TEMPLATE',
];

/** Stable codes of configuration warnings (fatal under `strict`). */
export type ConfigWarningCode = 'CONFIG_UNKNOWN_KEY' | 'CONFIG_IGNORED_FILE';

/** Every configuration warning code, for the docs sync test. */
export const CONFIG_WARNING_CODES: readonly ConfigWarningCode[] = ['CONFIG_UNKNOWN_KEY', 'CONFIG_IGNORED_FILE'];

/** A problem that does not stop loading unless `strict` is set. */
export interface ConfigWarning {
  /** Stable warning code. */
  readonly code: ConfigWarningCode;
  /** The fragment (or ignored file) the warning is about. */
  readonly file: string;
  /** Dotted TOML key, e.g. `updates.fleet_lock.window`; null for file-level warnings. */
  readonly key: string | null;
  /** 1-based line of the key in `file`, when it could be located. */
  readonly line: number | null;
  /** One line: `<file>[:<line>]: <what>`. */
  readonly message: string;
}

/** Where a configuration error points. */
export interface ConfigErrorWhere {
  /** Offending fragment, or null when the problem is not tied to one file. */
  readonly file?: string | null;
  /** Dotted TOML key, e.g. `updates.periodic.window[1].days`. */
  readonly key?: string | null;
  /** 1-based line in `file`, when known. */
  readonly line?: number | null;
  /** Underlying error. */
  readonly cause?: unknown;
}

/** Invalid configuration: the message is one line naming the file, the key and what was expected. */
export class ConfigError extends AltError {
  /** Offending fragment, or null. */
  readonly file: string | null;
  /** Offending dotted key, or null. */
  readonly key: string | null;
  /** 1-based line in `file`, or null. */
  readonly line: number | null;

  constructor(code: ConfigErrorCode, message: string, where: ConfigErrorWhere = {}) {
    super(code, message, where.cause === undefined ? {} : { cause: where.cause });
    this.file = where.file ?? null;
    this.key = where.key ?? null;
    this.line = where.line ?? null;
  }
}

/** Describes a raw TOML value for `got ...` in error messages, bounded so messages stay one line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'boolean') return `boolean ${String(value)}`;
  if (typeof value === 'bigint') return `integer ${value.toString()}`;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'float nan';
    if (!Number.isFinite(value)) return `float ${value > 0 ? 'inf' : '-inf'}`;
    return Number.isInteger(value) ? `integer ${String(value)}` : `float ${String(value)}`;
  }
  if (value instanceof Date) return 'a date-time';
  if (Array.isArray(value)) return `an array of ${String(value.length)}`;
  if (typeof value === 'object' && value !== null) return 'a table';
  return typeof value;
}
