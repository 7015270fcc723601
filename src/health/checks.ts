// Health-check discovery (greenboot's layout): vendor checks in /usr/lib/alt-updated/health.d/<set>,
// admin checks in /etc/alt-updated/health.d/<set> overriding by name; a /dev/null symlink masks.
import { constants } from 'node:fs';
import { access, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The check sets: `required.d` decides the verdict, `wanted.d` only warns; `green.d`/`red.d` are hooks. */
export type CheckSet = 'required.d' | 'wanted.d' | 'green.d' | 'red.d';

/** Vendor directory of the sets, relative to the root. */
export const VENDOR_DIR = 'usr/lib/alt-updated/health.d';
/** Admin directory of the sets, relative to the root; same names override the vendor's. */
export const ADMIN_DIR = 'etc/alt-updated/health.d';

/** A directory entry as discovery sees it. */
export interface CheckEntry {
  /** File name (the override key). */
  readonly name: string;
  /** Absolute path. */
  readonly path: string;
  /** True for a symlink to /dev/null (masks the vendor's entry of the same name). */
  readonly masked: boolean;
}

/** Merges vendor and admin entries: admin wins by name, masked names vanish, sorted by name. Pure. */
export function mergeEntries(vendor: readonly CheckEntry[], admin: readonly CheckEntry[]): CheckEntry[] {
  const byName = new Map<string, CheckEntry>();
  for (const e of [...vendor, ...admin]) byName.set(e.name, e);
  return [...byName.values()].filter((e) => !e.masked).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What discovery found in one set. */
export interface Discovered {
  /** Executable checks, in name order. */
  readonly runnable: readonly CheckEntry[];
  /** Entries that are skipped (not executable, not a regular file), with why. */
  readonly skipped: readonly { readonly entry: CheckEntry; readonly why: string }[];
}

async function listDir(dir: string): Promise<CheckEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err: unknown) {
    // A missing directory means "no checks there" (a node without checks is healthy).
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  const out: CheckEntry[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    const masked = await readlink(path).then((t) => t === '/dev/null', () => false);
    out.push({ name, path, masked });
  }
  return out;
}

/** Discovers one set under `root` (I/O: readdir, stat, access X_OK). */
export async function discover(root: string, set: CheckSet): Promise<Discovered> {
  const merged = mergeEntries(await listDir(join(root, VENDOR_DIR, set)), await listDir(join(root, ADMIN_DIR, set)));
  const runnable: CheckEntry[] = [];
  const skipped: { entry: CheckEntry; why: string }[] = [];
  for (const entry of merged) {
    const st = await stat(entry.path).catch(() => null);
    if (st === null || !st.isFile()) {
      skipped.push({ entry, why: 'not a regular file' });
      continue;
    }
    const exec = await access(entry.path, constants.X_OK).then(() => true, () => false);
    if (!exec) skipped.push({ entry, why: 'not executable' });
    else runnable.push(entry);
  }
  return { runnable, skipped };
}
