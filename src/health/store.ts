// The health record on disk: read strictly, written atomically (temp file + fsync + rename + fsync of
// the directory), so a power cut or kill -9 leaves either the old or the new record, never half.
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HealthError } from './errors.js';
import { EMPTY_RECORD, parseRecord, serializeRecord, type HealthRecord } from './record.js';

/** Default state directory (settings `health.state_dir`). */
export const DEFAULT_STATE_DIR = '/var/lib/alt-updated';
/** File name of the record inside the state directory. */
export const RECORD_FILE = 'health.json';

/** Reads and writes the record at one path. */
export interface HealthStore {
  /** The record file's path. */
  readonly path: string;
  /** The record; {@link EMPTY_RECORD} when the file does not exist. Throws `HEALTH_STATE_*`. */
  read(): Promise<HealthRecord>;
  /** Replaces the record atomically and durably. Throws `HEALTH_STATE_IO`. */
  write(record: HealthRecord): Promise<void>;
}

/** The record store at `path` (e.g. `<root>/var/lib/alt-updated/health.json`). */
export function fileHealthStore(path: string): HealthStore {
  return {
    path,
    async read() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err: unknown) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_RECORD;
        throw new HealthError('HEALTH_STATE_IO', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
      }
      return parseRecord(text, path);
    },
    async write(record) {
      const dir = dirname(path);
      const tmp = join(dir, `.${RECORD_FILE}.${process.pid}.tmp`);
      try {
        await mkdir(dir, { recursive: true });
        const fh = await open(tmp, 'w', 0o644);
        try {
          await fh.writeFile(serializeRecord(record), 'utf8');
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
        const d = await open(dir, 'r');
        try {
          await d.sync();
        } finally {
          await d.close();
        }
      } catch (err: unknown) {
        await unlink(tmp).catch(() => undefined);
        throw new HealthError('HEALTH_STATE_IO', `cannot write ${path}: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}

/** This boot's id (`/proc/sys/kernel/random/boot_id` under `root`), trimmed. */
export async function readBootId(root: string): Promise<string> {
  const p = join(root, 'proc/sys/kernel/random/boot_id');
  try {
    const id = (await readFile(p, 'utf8')).trim();
    if (id !== '') return id;
  } catch (err: unknown) {
    throw new HealthError('HEALTH_STATE_IO', `cannot read the boot id from ${p}: ${(err as Error).message}`, { cause: err });
  }
  throw new HealthError('HEALTH_STATE_IO', `the boot id in ${p} is empty`);
}
