// Stage 1 of 3 (style guide rule 8): find the drop-in fragments and parse each into a raw TOML table.
// Discovery is a pure function over directory listings so the precedence rules are table-tested;
// the file system is touched only by `scanConfigDir` and `readFragment`.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { decodeUtf8File } from '../common/utf8.js';
import { ConfigError, type ConfigWarning } from './errors.js';
import { indexKeyLines, type KeyLines } from './toml-lines.js';

/**
 * Drop-in directories, lowest precedence first. For a file name present in several of them the last
 * one wins (systemd convention: `/etc` beats `/run` beats `/usr/lib`).
 */
export const CONFIG_DIRS: readonly string[] = [
  '/usr/lib/alt-updated/config.d',
  '/run/alt-updated/config.d',
  '/etc/alt-updated/config.d',
];

/** What a directory entry is, as far as drop-in discovery cares. */
export type DropinKind = 'file' | 'mask' | 'other';

/** One entry of a scanned drop-in directory. */
export interface DropinEntry {
  /** File name within the directory. */
  readonly name: string;
  /** `file` (regular, or symlink to one), `mask` (symlink to /dev/null), `other` (dir, dangling link...). */
  readonly kind: DropinKind;
}

/** The entries of one drop-in directory (empty when it does not exist). */
export interface DirListing {
  /** Absolute directory path (under the chosen root). */
  readonly dir: string;
  /** Entries in any order. */
  readonly entries: readonly DropinEntry[];
}

/** Result of drop-in discovery. */
export interface DropinResolution {
  /** Fragments to apply, in merge (file-name) order. */
  readonly files: readonly string[];
  /** Ignored entries worth telling the operator about. */
  readonly warnings: readonly ConfigWarning[];
}

function ignored(file: string, why: string): ConfigWarning {
  return { code: 'CONFIG_IGNORED_FILE', file, key: null, line: null, message: `${file}: ignored: ${why}` };
}

/**
 * Applies the precedence, masking and ordering rules to directory listings given lowest-precedence
 * first: only `*.toml`, dotfiles skipped silently, other names warned about, a later directory's file
 * (or `/dev/null` mask) replaces an earlier one of the same name, survivors sorted by file name.
 */
export function resolveDropins(listings: readonly DirListing[]): DropinResolution {
  const chosen = new Map<string, string | null>();
  const warnings: ConfigWarning[] = [];
  for (const { dir, entries } of listings) {
    const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const { name, kind } of sorted) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      if (!name.endsWith('.toml')) {
        if (kind !== 'mask') warnings.push(ignored(path, 'only *.toml files are read'));
        continue;
      }
      if (kind === 'other') {
        warnings.push(ignored(path, 'not a regular file'));
        continue;
      }
      chosen.set(name, kind === 'mask' ? null : path);
    }
  }
  const names = [...chosen.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const files: string[] = [];
  for (const n of names) {
    const p = chosen.get(n);
    if (p) files.push(p);
  }
  return { files, warnings };
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** Lists one drop-in directory; a missing directory is an empty listing, any other failure a `CONFIG_READ`. */
export async function scanConfigDir(dir: string): Promise<DirListing> {
  let dirents;
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err: unknown) {
    const code = errCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { dir, entries: [] };
    throw new ConfigError('CONFIG_READ', `${dir}: cannot list directory: ${code ?? String(err)}`, { file: dir, cause: err });
  }
  const entries: DropinEntry[] = [];
  for (const d of dirents) {
    const path = join(dir, d.name);
    let kind: DropinKind = 'other';
    if (d.isSymbolicLink()) {
      // The link text is compared, not resolved: under `--root` /dev/null means the host's null device.
      const target = await readlink(path).catch(() => '');
      if (target === '/dev/null') kind = 'mask';
      else {
        const s = await stat(path).catch(() => null);
        // A relative link that resolves to the null device masks too.
        kind = s?.isFile() ? 'file' : s?.isCharacterDevice() && target.endsWith('/dev/null') ? 'mask' : 'other';
      }
    } else if (d.isFile()) kind = 'file';
    entries.push({ name: d.name, kind });
  }
  return { dir, entries };
}

/** A fragment parsed into a raw TOML table, with a key -> line index for messages. */
export interface ParsedFragment {
  /** Absolute path of the fragment. */
  readonly path: string;
  /** Raw parsed table; every value still `unknown` to later stages. */
  readonly table: Readonly<Record<string, unknown>>;
  /** Where each key was written. */
  readonly lines: KeyLines;
}

/** Parses fragment text; a syntax error becomes `CONFIG_SYNTAX` naming file, line and column. */
export function parseFragment(path: string, text: string): ParsedFragment {
  try {
    const table = parse(text) as Record<string, unknown>;
    return { path, table, lines: indexKeyLines(text) };
  } catch (err: unknown) {
    if (err instanceof TomlError) {
      const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
      throw new ConfigError('CONFIG_SYNTAX', `${path}:${String(err.line)}:${String(err.column)}: invalid TOML: ${reason}`, {
        file: path,
        line: err.line,
        cause: err,
      });
    }
    // smol-toml documents TomlError only; anything else is still reported as a syntax error.
    throw new ConfigError('CONFIG_SYNTAX', `${path}: invalid TOML: ${err instanceof Error ? err.message : String(err)}`, {
      file: path,
      cause: err,
    });
  }
}

/** Reads and parses one fragment. */
export async function readFragment(path: string): Promise<ParsedFragment> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err: unknown) {
    throw new ConfigError('CONFIG_READ', `${path}: cannot read fragment: ${errCode(err) ?? String(err)}`, { file: path, cause: err });
  }
  const text = decodeUtf8File(bytes, path);
  if (!text.ok) throw new ConfigError('CONFIG_SYNTAX', text.message, { file: path, line: text.line });
  return parseFragment(path, text.text);
}

/** The drop-in directories under `root` (default `/`), lowest precedence first. */
export function configDirsUnder(root: string): string[] {
  return CONFIG_DIRS.map((d) => join(root, d));
}
