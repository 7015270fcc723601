// Reads release history from a real ostree repository through the `ostree` CLI. A local path is read
// directly; an http(s) URL is mirrored (commit metadata only, full depth) into a local cache repo
// first, so both cases are then the same `ostree refs` + `ostree log` calls.
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GraphServerError } from './errors.js';

const run = promisify(execFile);

/** One commit on a ref, as `ostree log` reports it. */
export interface CommitInfo {
  /** Commit checksum (the node payload). */
  readonly checksum: string;
  /** `version` commit metadata, or null when absent. */
  readonly version: string | null;
}

/** The history of one release ref `<prefix>/<basearch>/<stream>[/<name>]`, oldest commit first. */
export interface RefHistory {
  /** Full ref name. */
  readonly ref: string;
  /** Architecture component. */
  readonly basearch: string;
  /** Stream component. */
  readonly stream: string;
  /** Optional fourth component, or null. */
  readonly name: string | null;
  /** Commits, oldest first (parent chain order); for an `oci` history, images (`checksum` = pullspec@digest). */
  readonly commits: readonly CommitInfo[];
  /** `oci` for image releases from a registry (src/graph-server/oci); absent for ostree commits. */
  readonly scheme?: 'oci';
}

/** Where releases come from. */
export interface ReleaseSource {
  /** Cheap change detector: a string that changes when any ref moves. Syncs a URL mirror first. */
  fingerprint(): Promise<string>;
  /** Full read of every release ref under the prefix. */
  read(): Promise<RefHistory[]>;
  /** Commits left out for their signatures (a verifying source only). */
  refusedCommits?(): number;
}

async function ostree(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ostree', args, { maxBuffer: 256 << 20 });
    return stdout;
  } catch (err: unknown) {
    const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String((err as { stderr: unknown }).stderr).trim() : '';
    throw new GraphServerError('GRAPHD_REPO', `ostree ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, err);
  }
}

/** Parses `ostree log` text (newest first) into commits, oldest first. */
export function parseOstreeLog(text: string): CommitInfo[] {
  const out: CommitInfo[] = [];
  let cur: { checksum: string; version: string | null } | null = null;
  let inHeader = false;
  for (const line of text.split('\n')) {
    const m = /^commit ([0-9a-f]{64})$/.exec(line);
    if (m) {
      if (cur) out.push(cur);
      cur = { checksum: m[1]!, version: null };
      inHeader = true;
      continue;
    }
    if (line === '') inHeader = false;
    else if (cur && inHeader && line.startsWith('Version: ')) cur.version = line.slice('Version: '.length);
  }
  if (cur) out.push(cur);
  return out.reverse();
}

/** Splits `<prefix>/<arch>/<stream>[/<name>]`; null for any other ref. */
export function splitReleaseRef(ref: string, prefix: string): { basearch: string; stream: string; name: string | null } | null {
  const parts = ref.split('/');
  if (parts[0] !== prefix || parts.length < 3 || parts.length > 4 || parts.some((p) => p === '')) return null;
  return { basearch: parts[1]!, stream: parts[2]!, name: parts[3] ?? null };
}

async function refFiles(dir: string, rel = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await refFiles(dir, r)));
    else out.push(r);
  }
  return out;
}

/** A source reading a local repository path. */
export function localRepoSource(path: string, prefix: string): ReleaseSource {
  return {
    async fingerprint() {
      // Reading refs/heads directly is much cheaper than an ostree call per poll.
      const heads = join(path, 'refs', 'heads');
      try {
        await stat(join(path, 'config'));
      } catch (err: unknown) {
        throw new GraphServerError('GRAPHD_REPO', `'${path}' is not an ostree repository`, err);
      }
      const files = await refFiles(heads, prefix);
      const parts = await Promise.all(files.map(async (f) => `${f}=${(await readFile(join(heads, f), 'utf8').catch(() => '?')).trim()}`));
      return parts.join('\n');
    },
    async read() {
      const refs = (await ostree([`--repo=${path}`, 'refs']))
        .split('\n')
        .map((s) => s.trim())
        .filter((s) => s !== '' && !s.includes(':'))
        .sort();
      const out: RefHistory[] = [];
      for (const ref of refs) {
        const parts = splitReleaseRef(ref, prefix);
        if (!parts) continue;
        const commits = parseOstreeLog(await ostree([`--repo=${path}`, 'log', ref]));
        out.push({ ref, ...parts, commits });
      }
      return out;
    },
  };
}

/** A source mirroring a remote repository URL into `cacheDir` (commit metadata only). */
export function remoteRepoSource(url: string, cacheDir: string, prefix: string): ReleaseSource {
  const local = localRepoSource(cacheDir, prefix);
  let ready = false;
  async function sync(): Promise<void> {
    if (!ready) {
      try {
        await stat(join(cacheDir, 'config'));
      } catch {
        await ostree([`--repo=${cacheDir}`, 'init', '--mode=archive']);
      }
      await ostree([`--repo=${cacheDir}`, 'remote', 'delete', '--if-exists', 'origin']);
      await ostree([`--repo=${cacheDir}`, 'remote', 'add', '--no-gpg-verify', 'origin', url]);
      ready = true;
    }
    // Refs come from the remote summary: the publisher must run `ostree summary -u`.
    await ostree([`--repo=${cacheDir}`, 'pull', '--mirror', '--commit-metadata-only', '--depth=-1', 'origin']);
  }
  return {
    async fingerprint() {
      await sync();
      return local.fingerprint();
    },
    read: () => local.read(),
  };
}
