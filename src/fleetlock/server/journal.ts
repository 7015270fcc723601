// Append-only journal file for the embedded store. Each line is `<crc32 hex> <json>\n` where the JSON
// is one group's full state after a change: `{"seq":N,"group":"g","state":{"holders":[...]}}`. Replay
// keeps the last record per group. A torn last line (crash mid-write) is dropped; damage anywhere
// else means the file cannot be trusted, and the server refuses to start rather than guess.
import { crc32 } from 'node:zlib';
import { open, rename, rm, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FleetLockStoreError } from '../errors.js';
import { isEmptyGroup, parseGroupState, serializeGroupState, type GroupState } from './semaphore.js';

/** The journal's file name inside the state directory. */
export const JOURNAL_FILE = 'fleetlock.journal';

/** One replayed or written record. */
export interface JournalRecord {
  /** Global sequence number, strictly increasing through the file. */
  readonly seq: number;
  /** The group's state at that point. */
  readonly state: GroupState;
}

/** Result of parsing journal text. */
export interface ParsedJournal {
  /** Last record per group. */
  readonly records: Map<string, JournalRecord>;
  /** Number of intact lines. */
  readonly lines: number;
  /** Byte length of the intact prefix; anything after it is a torn tail to cut off. */
  readonly goodBytes: number;
}

/** Renders one journal line. */
export function journalLine(seq: number, group: string, state: GroupState): string {
  const json = JSON.stringify({ seq, group, state: serializeGroupState(state) });
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

function decodeLine(line: string): { seq: number; group: string; state: GroupState } | null {
  const sp = line.indexOf(' ');
  if (sp !== 8) return null;
  const json = line.slice(9);
  if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const { seq, group, state } = raw as Record<string, unknown>;
  const parsed = parseGroupState(state);
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || typeof group !== 'string' || parsed === null) return null;
  return { seq, group, state: parsed };
}

/**
 * Parses journal bytes. Throws `FLEETLOCKD_STORE_CORRUPT` when a damaged line is followed by more
 * data or sequence numbers go backwards; a damaged or unterminated final line is reported via
 * `goodBytes` instead.
 */
export function parseJournal(buf: Buffer, file = JOURNAL_FILE): ParsedJournal {
  const records = new Map<string, JournalRecord>();
  let offset = 0;
  let lines = 0;
  let lastSeq = -1;
  while (offset < buf.length) {
    const nl = buf.indexOf(0x0a, offset);
    if (nl < 0) break; // unterminated tail: torn
    const rec = decodeLine(buf.subarray(offset, nl).toString('utf8'));
    if (rec === null || rec.seq <= lastSeq) {
      if (nl + 1 >= buf.length && rec === null) break; // damaged final line: torn
      throw new FleetLockStoreError(
        'FLEETLOCKD_STORE_CORRUPT',
        `${file}: line ${lines + 1} (byte ${offset}) is damaged and not the last line; refusing to guess lock state`,
      );
    }
    lastSeq = rec.seq;
    records.set(rec.group, { seq: rec.seq, state: rec.state });
    lines++;
    offset = nl + 1;
  }
  return { records, lines, goodBytes: offset };
}

/** An open journal. Appends are batched: all lines queued while a write is in flight share one fsync. */
export interface Journal {
  /** Last durable record per group. */
  readonly records: ReadonlyMap<string, JournalRecord>;
  /** Appends a record and resolves with its sequence number once it is fsynced. */
  append(group: string, state: GroupState): Promise<number>;
  /** The write error that made the journal read-only, if any. */
  failure(): Error | null;
  /** Rewrites the file with one line per non-empty group. */
  compact(): Promise<void>;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/** Options for {@link openJournal}. */
export interface JournalOptions {
  /** Compact once this many lines were appended since the last compaction. @default 10000 */
  readonly compactEveryLines?: number;
  /** Called after a torn tail was cut off at start-up, for logging. */
  readonly onTornTail?: (droppedBytes: number) => void;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Opens (creating if needed) the journal in `dir`, replaying it and cutting a torn tail. */
export async function openJournal(dir: string, opts: JournalOptions = {}): Promise<Journal> {
  const path = join(dir, JOURNAL_FILE);
  const tmp = `${path}.tmp`;
  const compactEvery = opts.compactEveryLines ?? 10_000;
  await rm(tmp, { force: true });
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `cannot read ${path}`, { cause: err });
    }
    buf = Buffer.alloc(0);
  }
  const parsed = parseJournal(buf, path);
  const records = parsed.records;
  let fh: FileHandle = await open(path, 'a');
  if (parsed.goodBytes < buf.length) {
    await fh.truncate(parsed.goodBytes);
    await fh.sync();
    opts.onTornTail?.(buf.length - parsed.goodBytes);
  } else {
    await fsyncDir(dir);
  }
  let seq = Math.max(-1, ...[...records.values()].map((r) => r.seq));
  let linesSinceCompact = parsed.lines;
  let failed: Error | null = null;
  let queue: { line: string; group: string; rec: JournalRecord; resolve: (n: number) => void; reject: (e: unknown) => void }[] = [];
  let writing: Promise<void> | null = null;
  let compactRequested = false;

  const compactNow = async (): Promise<void> => {
    // Sorted by sequence: replay requires strictly increasing sequence numbers.
    const lines = [...records.entries()]
      .filter(([, r]) => !isEmptyGroup(r.state))
      .sort(([, a], [, b]) => a.seq - b.seq)
      .map(([g, r]) => journalLine(r.seq, g, r.state))
      .join('');
    const out = await open(tmp, 'w', 0o600);
    try {
      await out.writeFile(lines);
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, path);
    await fsyncDir(dir);
    await fh.close();
    fh = await open(path, 'a');
    linesSinceCompact = records.size;
  };

  const compactFailed = (err: unknown): void => {
    failed ??= new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `compaction of ${path} failed`, { cause: err });
  };

  const flush = async (): Promise<void> => {
    while (queue.length > 0 || compactRequested) {
      if (queue.length === 0) {
        compactRequested = false;
        if (!failed) await compactNow().catch(compactFailed);
        continue;
      }
      const batch = queue;
      queue = [];
      try {
        if (failed) throw failed;
        const buf = Buffer.from(batch.map((b) => b.line).join(''));
        for (let off = 0; off < buf.length; ) {
          const { bytesWritten } = await fh.write(buf, off, buf.length - off);
          if (bytesWritten <= 0) throw new Error('short write');
          off += bytesWritten;
        }
        await fh.datasync();
      } catch (err: unknown) {
        // After a failed write or fsync the file's content is unknown: stop accepting changes.
        failed ??= new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `write to ${path} failed`, { cause: err });
        for (const b of batch) b.reject(failed);
        continue;
      }
      for (const b of batch) records.set(b.group, b.rec);
      linesSinceCompact += batch.length;
      for (const b of batch) b.resolve(b.rec.seq);
      if (linesSinceCompact >= compactEvery) {
        await compactNow().catch(compactFailed);
      }
    }
  };

  const kick = (): void => {
    writing ??= flush().finally(() => {
      writing = null;
      if (queue.length > 0 || compactRequested) kick();
    });
  };

  return {
    records,
    append(group, state) {
      if (failed) return Promise.reject(failed);
      seq += 1;
      const rec = { seq, state };
      return new Promise<number>((resolve, reject) => {
        queue.push({ line: journalLine(seq, group, state), group, rec, resolve, reject });
        kick();
      });
    },
    failure: () => failed,
    async compact() {
      compactRequested = true;
      kick();
      while (writing) await writing;
      if (failed) throw failed;
    },
    async close() {
      while (writing) await writing;
      await fh.close();
    },
  };
}
