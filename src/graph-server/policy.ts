// Fedora's updates metadata (`updates/<stream>.json`, fedora-coreos-tracker metadata/updates spec):
// per-release barrier, dead-end and rollout settings, matched to commits by version.
import { GraphServerError } from './errors.js';

/** A rollout as written in the policy file (defaults applied). */
export interface Rollout {
  /** Unix seconds when the rollout starts. @default 0 */
  readonly startEpoch: number;
  /** Fraction 0..1 of clients that see the release at `startEpoch`. @default 0 */
  readonly startPercentage: number;
  /** Minutes until everyone sees it; null = never progresses past `startPercentage`. */
  readonly durationMinutes: number | null;
}

/** Policy for one release version. */
export interface ReleasePolicy {
  /** Barrier reason (`generic` when empty), or null. */
  readonly barrier: string | null;
  /** Dead-end reason (`generic` when empty), or null. */
  readonly deadend: string | null;
  /** Rollout, or null when the release is not an update target. */
  readonly rollout: Rollout | null;
}

/** A parsed `updates/<stream>.json`. */
export interface StreamPolicy {
  /** Stream name (file name without `.json`). */
  readonly stream: string;
  /** Policy by release version. */
  readonly releases: ReadonlyMap<string, ReleasePolicy>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function reasonOf(v: unknown, at: string, file: string): string {
  if (!isRecord(v)) throw new GraphServerError('GRAPHD_POLICY', `${file}: ${at}: expected an object`);
  if (v.reason === undefined || v.reason === '') return 'generic';
  if (typeof v.reason !== 'string') throw new GraphServerError('GRAPHD_POLICY', `${file}: ${at}.reason: expected a string`);
  return v.reason;
}

function num(v: unknown, at: string, file: string, check: (n: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new GraphServerError('GRAPHD_POLICY', `${file}: ${at}: expected ${what}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function rolloutOf(v: unknown, at: string, file: string): Rollout {
  if (!isRecord(v)) throw new GraphServerError('GRAPHD_POLICY', `${file}: ${at}: expected an object`);
  const startEpoch = v.start_epoch === undefined ? 0 : num(v.start_epoch, `${at}.start_epoch`, file, Number.isSafeInteger, 'an integer (unix seconds)');
  const startPercentage =
    v.start_percentage === undefined ? 0 : num(v.start_percentage, `${at}.start_percentage`, file, (n) => n >= 0 && n <= 1, 'a number in 0.0..1.0');
  const durationMinutes =
    v.duration_minutes === undefined ? null : num(v.duration_minutes, `${at}.duration_minutes`, file, (n) => Number.isSafeInteger(n) && n >= 0, 'a non-negative integer');
  return { startEpoch, startPercentage, durationMinutes };
}

/**
 * Validates a policy document; throws `GRAPHD_POLICY` naming the file and field. `file` is used in
 * messages and its base name (without `.json`) is the stream; a `stream` field, if present, must match.
 */
export function parseStreamPolicy(json: unknown, file: string, stream: string): StreamPolicy {
  if (!isRecord(json)) throw new GraphServerError('GRAPHD_POLICY', `${file}: expected a JSON object`);
  if (json.stream !== undefined && json.stream !== stream) {
    throw new GraphServerError('GRAPHD_POLICY', `${file}: stream: expected "${stream}" (the file name), got ${JSON.stringify(json.stream)}`);
  }
  const list = json.releases ?? [];
  if (!Array.isArray(list)) throw new GraphServerError('GRAPHD_POLICY', `${file}: releases: expected an array`);
  const releases = new Map<string, ReleasePolicy>();
  list.forEach((r: unknown, i) => {
    const at = `releases[${i}]`;
    if (!isRecord(r)) throw new GraphServerError('GRAPHD_POLICY', `${file}: ${at}: expected an object`);
    if (typeof r.version !== 'string' || r.version === '') {
      throw new GraphServerError('GRAPHD_POLICY', `${file}: ${at}.version: expected a non-empty string`);
    }
    if (releases.has(r.version)) throw new GraphServerError('GRAPHD_POLICY', `${file}: ${at}.version: duplicate "${r.version}"`);
    const m = r.metadata ?? {};
    if (!isRecord(m)) throw new GraphServerError('GRAPHD_POLICY', `${file}: ${at}.metadata: expected an object`);
    releases.set(r.version, {
      barrier: m.barrier === undefined ? null : reasonOf(m.barrier, `${at}.metadata.barrier`, file),
      deadend: m.deadend === undefined ? null : reasonOf(m.deadend, `${at}.metadata.deadend`, file),
      rollout: m.rollout === undefined ? null : rolloutOf(m.rollout, `${at}.metadata.rollout`, file),
    });
  });
  return { stream, releases };
}
