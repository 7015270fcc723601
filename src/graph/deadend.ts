// Dead-end MOTD fragment, written by the unprivileged agent itself (no pkexec/sudo helper).
//
// Write strategy (why): Zincati writes a temp file in /run/motd.d and renames it, which needs write
// access to the directory, hence its root helper. We ship a tmpfiles.d line that pre-creates
// /run/motd.d/85-alt-updated-deadend.motd owned by the service user in the root-owned directory. So:
//  1. try temp-file + rename (atomic; works when the directory is writable, e.g. tests, root);
//  2. on EACCES/EPERM/EROFS fall back to rewriting the existing file in place (truncate + write).
//     A reader may briefly see an empty or partial single line; for an MOTD that is acceptable.
// "Unset" unlinks the file, or truncates it to empty when unlinking is not permitted (an empty
// fragment prints nothing). Both operations are idempotent and skip writing when nothing changes.
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AltError } from '../common/errors.js';

/** Default MOTD fragment path. */
export const DEADEND_MOTD_PATH = '/run/motd.d/85-alt-updated-deadend.motd';

/** The file operations used (node:fs/promises by default; injectable to simulate a read-only directory). */
export type MotdFs = Pick<typeof nodeFs, 'readFile' | 'writeFile' | 'rename' | 'unlink' | 'chmod' | 'open'>;

/** Sets and clears the dead-end MOTD fragment. */
export interface DeadendMotd {
  /** Writes `This release is a dead-end and will not further auto-update: <reason>`. */
  set(reason: string): Promise<void>;
  /** Removes (or empties) the fragment; a missing file is fine. */
  clear(): Promise<void>;
}

/** Failure to write or remove the fragment (the agent logs it and carries on). */
export class DeadendMotdError extends AltError {
  constructor(message: string, cause: unknown) {
    super('GRAPH_DEADEND_MOTD', message, { kind: 'deadend_motd', cause });
  }
}

/** The single MOTD line for a reason (newlines in the reason are flattened). */
export function deadendMotdText(reason: string): string {
  return `This release is a dead-end and will not further auto-update: ${reason.replace(/[\r\n]+/g, ' ')}\n`;
}

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Creates the MOTD writer for `path` (default `DEADEND_MOTD_PATH`). */
export function createDeadendMotd(opts: { path?: string; fs?: MotdFs } = {}): DeadendMotd {
  const path = opts.path ?? DEADEND_MOTD_PATH;
  const fs = opts.fs ?? nodeFs;

  async function current(): Promise<string | null> {
    try {
      return await fs.readFile(path, 'utf8');
    } catch (err: unknown) {
      if (errno(err) === 'ENOENT') return null;
      throw err;
    }
  }

  async function inPlace(text: string): Promise<void> {
    // 'r+' never creates: the pre-created file (and its owner/label) is kept.
    const fh = await fs.open(path, 'r+');
    try {
      await fh.truncate(0);
      await fh.write(text, 0, 'utf8');
    } finally {
      await fh.close();
    }
  }

  async function atomic(text: string): Promise<void> {
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
    try {
      await fs.writeFile(tmp, text, { mode: 0o644 });
      await fs.chmod(tmp, 0o644);
      await fs.rename(tmp, path);
    } catch (err: unknown) {
      await fs.unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  return {
    async set(reason) {
      const text = deadendMotdText(reason);
      try {
        if ((await current()) === text) return;
        try {
          await atomic(text);
        } catch (err: unknown) {
          if (!DENIED.has(errno(err) ?? '')) throw err;
          await inPlace(text);
        }
      } catch (err: unknown) {
        throw new DeadendMotdError(`failed to write dead-end MOTD '${path}'`, err);
      }
    },
    async clear() {
      try {
        const now = await current();
        if (now === null || now === '') return;
        try {
          await fs.unlink(path);
        } catch (err: unknown) {
          if (!DENIED.has(errno(err) ?? '')) throw err;
          await inPlace('');
        }
      } catch (err: unknown) {
        throw new DeadendMotdError(`failed to remove dead-end MOTD '${path}'`, err);
      }
    },
  };
}
