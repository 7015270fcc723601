// FleetLock wire facts shared by the client and the server (protocol spec: coreos/zincati
// docs/development/fleetlock/protocol.md, restated in shared/reference/protocols-and-alt-linux.md §1).

/** The header every FleetLock request must carry with the value `true` (guards against redirects). */
export const FLEETLOCK_HEADER = 'fleet-lock-protocol';

/** Groups must match this pattern (protocol spec, client_params.group). */
export const GROUP_PATTERN = /^[a-zA-Z0-9.-]+$/;

/** Longest accepted holder id, in characters; the spec sets no bound, a server must. */
export const MAX_ID_LENGTH = 256;

/**
 * The operations, named by their relative endpoint: the two of the FleetLock protocol, and
 * `verdict`, alt-fleetlockd's extension beside them (same header, body envelope and token) through
 * which a node reports how its update went.
 */
export type FleetLockApi = 'pre-reboot' | 'steady-state' | 'verdict';

/** The relative path of each operation, joined onto the base URL. */
export const API_PATHS: Readonly<Record<FleetLockApi, string>> = {
  'pre-reboot': 'v1/pre-reboot',
  'steady-state': 'v1/steady-state',
  verdict: 'v1/verdict',
};

/**
 * How a node's update went: `healthy` (the new deployment passed its health checks), `failed` (it
 * failed them; the node may retry or roll back) or `rolled_back` (the node went back to its
 * previous deployment).
 */
export type VerdictResult = 'healthy' | 'failed' | 'rolled_back';

/** Every {@link VerdictResult}, in documentation order. */
export const VERDICT_RESULTS: readonly VerdictResult[] = ['healthy', 'failed', 'rolled_back'];

/** Longest accepted `verdict.release`, in characters. */
export const MAX_RELEASE_LENGTH = 256;
/** Longest accepted `verdict.reason`, in characters. */
export const MAX_REASON_LENGTH = 1024;

/** A node's verdict on one update, as sent in the `verdict` member of a `v1/verdict` body. */
export interface Verdict {
  /** The outcome. */
  readonly result: VerdictResult;
  /** The release (version) the verdict is about: the one the node updated to, not the one it rolled back to. */
  readonly release: string;
  /** Human-readable cause (e.g. the failed check), or null; at most {@link MAX_REASON_LENGTH} characters. */
  readonly reason: string | null;
}

/** A lock holder identity and its reboot group, as sent in `client_params`. */
export interface ClientParams {
  /** Case-sensitive unique holder id (Zincati sends the app-specific machine id). */
  readonly id: string;
  /** Reboot group, matching {@link GROUP_PATTERN}. */
  readonly group: string;
}

/** Outcome of validating a request body: the params, or why they are unusable. */
export type ParsedClientParams =
  | { readonly ok: true; readonly params: ClientParams }
  | { readonly ok: false; readonly kind: 'invalid_body' | 'invalid_client_params'; readonly value: string };

// C0 controls, DEL and C1 controls; and a UTF-16 surrogate without its partner (a JSON `\udcff`
// escape), which has no UTF-8 form: the stores would write it as U+FFFD and merge distinct ids.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `id` is not a canonical holder id, or null when it is one. Ids are compared as exact strings,
 * so anything that could make two machines' ids equal after a round trip through a store, or make
 * two spellings of one id look different, is refused rather than normalised.
 */
export function idProblem(id: string): string | null {
  if (id.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  if (CONTROL.test(id)) return 'must not contain control characters';
  if (LONE_SURROGATE.test(id)) return 'must be well-formed Unicode (no unpaired surrogate escape)';
  if (/^\s|\s$/.test(id)) return 'must not start or end with white space';
  return null;
}

/** Validates an already JSON-decoded request body against the protocol's `client_params` shape. */
export function parseClientParams(body: unknown): ParsedClientParams {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, kind: 'invalid_body', value: 'request body must be a JSON object' };
  }
  const cp = (body as Record<string, unknown>)['client_params'];
  if (typeof cp !== 'object' || cp === null || Array.isArray(cp)) {
    return { ok: false, kind: 'invalid_body', value: "request body must have an object 'client_params'" };
  }
  const { id, group } = cp as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0) {
    return { ok: false, kind: 'invalid_client_params', value: "'client_params.id' must be a non-empty string" };
  }
  const bad = idProblem(id);
  if (bad !== null) return { ok: false, kind: 'invalid_client_params', value: `'client_params.id' ${bad}` };
  if (typeof group !== 'string' || !GROUP_PATTERN.test(group)) {
    return {
      ok: false,
      kind: 'invalid_client_params',
      value: "'client_params.group' must be a non-empty string matching ^[a-zA-Z0-9.-]+$",
    };
  }
  return { ok: true, params: { id, group } };
}

/** Outcome of validating a `v1/verdict` body: params and verdict, or why they are unusable. */
export type ParsedVerdict =
  | { readonly ok: true; readonly params: ClientParams; readonly verdict: Verdict }
  | { readonly ok: false; readonly kind: 'invalid_body' | 'invalid_client_params' | 'invalid_verdict'; readonly value: string };

/** Why `text` cannot be stored and logged as one field (control characters, bad Unicode, too long), or null. */
function textProblem(text: string, max: number): string | null {
  if (text.length > max) return `must be at most ${max} characters`;
  if (CONTROL.test(text)) return 'must not contain control characters';
  if (LONE_SURROGATE.test(text)) return 'must be well-formed Unicode (no unpaired surrogate escape)';
  return null;
}

/** Validates an already JSON-decoded `v1/verdict` body: `client_params` as for the lock calls, plus `verdict`. */
export function parseVerdictBody(body: unknown): ParsedVerdict {
  const cp = parseClientParams(body);
  if (!cp.ok) return cp;
  const v = (body as Record<string, unknown>)['verdict'];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { ok: false, kind: 'invalid_body', value: "request body must have an object 'verdict'" };
  }
  const { result, release, reason } = v as Record<string, unknown>;
  if (typeof result !== 'string' || !(VERDICT_RESULTS as readonly string[]).includes(result)) {
    return { ok: false, kind: 'invalid_verdict', value: `'verdict.result' must be one of ${VERDICT_RESULTS.join(', ')}` };
  }
  if (typeof release !== 'string' || release.trim().length === 0) {
    return { ok: false, kind: 'invalid_verdict', value: "'verdict.release' must be a non-empty string" };
  }
  const badRelease = textProblem(release, MAX_RELEASE_LENGTH);
  if (badRelease !== null) return { ok: false, kind: 'invalid_verdict', value: `'verdict.release' ${badRelease}` };
  if (reason !== undefined && reason !== null && typeof reason !== 'string') {
    return { ok: false, kind: 'invalid_verdict', value: "'verdict.reason' must be a string or null" };
  }
  const badReason = typeof reason === 'string' ? textProblem(reason, MAX_REASON_LENGTH) : null;
  if (badReason !== null) return { ok: false, kind: 'invalid_verdict', value: `'verdict.reason' ${badReason}` };
  return {
    ok: true,
    params: cp.params,
    verdict: { result: result as VerdictResult, release, reason: typeof reason === 'string' && reason.length > 0 ? reason : null },
  };
}

/** Builds the `v1/verdict` request body. */
export function verdictBody(params: ClientParams, verdict: Verdict): string {
  return JSON.stringify({
    client_params: { id: params.id, group: params.group },
    verdict: { result: verdict.result, release: verdict.release, reason: verdict.reason },
  });
}

/** Builds the protocol request body for `params`. */
export function clientParamsBody(params: ClientParams): string {
  return JSON.stringify({ client_params: { id: params.id, group: params.group } });
}

/** Reads a `{kind, value}` error body; null when the body is not one (spec: both non-empty strings). */
export function parseErrorBody(body: unknown): { kind: string; value: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const { kind, value } = body as Record<string, unknown>;
  if (typeof kind !== 'string' || kind.length === 0 || kind.length > 128) return null;
  return { kind, value: typeof value === 'string' ? value : '' };
}
