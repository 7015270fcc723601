// Pure parsers for the text the ostree 2022.7 CLI prints (`admin status`, `show`, `log`).
import { OstreeParseError } from './errors.js';

/** One deployment as `ostree admin status` reports it, in boot order. */
export interface StatusEntry {
  readonly osname: string;
  readonly checksum: string;
  readonly serial: number;
  readonly booted: boolean;
  readonly staged: boolean;
  readonly pending: boolean;
  readonly rollback: boolean;
  /** True when ostree itself reports the staged deployment as finalization-locked (newer ostree). */
  readonly lockedByOstree: boolean;
  readonly pinned: boolean;
  /** `none`, `development`, `hotfix` or `transient`. */
  readonly unlocked: string;
  readonly version: string | null;
  /** Origin refspec, e.g. `altcos:altcos/x86_64/sisyphus`, or null when none or unknown. */
  readonly origin: string | null;
}

const HEADER = /^([ *]) (\S+) ([0-9a-f]{64})\.(\d+)(?: \(([^)]*)\))*\s*$/;
const FLAGS = /\(([^)]*)\)/g;

/** Parses `ostree admin status` output into entries, in the order printed (boot order). */
export function parseAdminStatus(text: string): StatusEntry[] {
  const out: StatusEntry[] = [];
  let cur: { -readonly [K in keyof StatusEntry]: StatusEntry[K] } | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (line === '' || line === 'No deployments.') continue;
    const m = HEADER.exec(line);
    if (m) {
      const flags = [...line.matchAll(FLAGS)].flatMap((f) => (f[1] ?? '').split(',').map((s) => s.trim()));
      cur = {
        osname: m[2]!,
        checksum: m[3]!,
        serial: Number(m[4]),
        booted: m[1] === '*',
        staged: flags.includes('staged'),
        pending: flags.includes('pending'),
        rollback: flags.includes('rollback'),
        lockedByOstree: flags.some((f) => f.includes('finalization locked') || f === 'locked'),
        pinned: false,
        unlocked: 'none',
        version: null,
        origin: null,
      };
      out.push(cur);
      continue;
    }
    if (!cur || !line.startsWith('    ')) {
      throw new OstreeParseError('ostree admin status', `unexpected line ${JSON.stringify(line)}`);
    }
    const body = line.trim();
    const kv = /^([A-Za-z ]+):\s?(.*)$/.exec(body);
    if (!kv) continue;
    const key = kv[1]!.toLowerCase();
    const value = kv[2]!.trim();
    if (key === 'version') cur.version = value;
    else if (key === 'origin refspec') cur.origin = value;
    else if (key === 'pinned') cur.pinned = value === 'yes';
    else if (key === 'unlocked') cur.unlocked = value;
  }
  return out;
}

/** Facts about one commit from `ostree show`. */
export interface CommitFacts {
  readonly checksum: string;
  readonly parent: string | null;
  /** Commit timestamp in seconds since the epoch. */
  readonly timestampSecs: number;
  readonly version: string | null;
}

const DATE = /^Date:\s+(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) \+0000$/;

function parseCommitBlock(lines: readonly string[], what: string): CommitFacts {
  const head = /^commit ([0-9a-f]{64})$/.exec(lines[0] ?? '');
  if (!head) throw new OstreeParseError(what, `expected "commit <checksum>", got ${JSON.stringify(lines[0])}`);
  let parent: string | null = null;
  let ts: number | null = null;
  let version: string | null = null;
  for (const line of lines.slice(1)) {
    const p = /^Parent:\s+([0-9a-f]{64})$/.exec(line);
    if (p) parent = p[1]!;
    const d = DATE.exec(line);
    if (d) ts = Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!) / 1000;
    const v = /^Version:\s(.*)$/.exec(line);
    if (v && version === null) version = v[1]!;
  }
  if (ts === null) throw new OstreeParseError(what, `no Date line for ${head[1]!}`);
  return { checksum: head[1]!, parent, timestampSecs: ts, version };
}

/** Parses `ostree show <checksum>` output (one commit). */
export function parseShow(text: string): CommitFacts {
  return parseCommitBlock(text.split('\n'), 'ostree show');
}

/** Parses `ostree log <ref>` output (newest first); stops where history is missing locally. */
export function parseLog(text: string): CommitFacts[] {
  const blocks: string[][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('commit ')) blocks.push([line]);
    else if (blocks.length > 0) blocks[blocks.length - 1]!.push(line);
  }
  return blocks.map((b) => parseCommitBlock(b, 'ostree log'));
}
