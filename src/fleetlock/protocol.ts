// FleetLock wire facts shared by the client and the server (protocol spec: coreos/zincati
// docs/development/fleetlock/protocol.md, restated in shared/reference/protocols-and-alt-linux.md §1).

/** The header every FleetLock request must carry with the value `true` (guards against redirects). */
export const FLEETLOCK_HEADER = 'fleet-lock-protocol';

/** Groups must match this pattern (protocol spec, client_params.group). */
export const GROUP_PATTERN = /^[a-zA-Z0-9.-]+$/;

/** Longest accepted holder id, in characters; the spec sets no bound, a server must. */
export const MAX_ID_LENGTH = 256;

/** The two protocol operations, named by their relative endpoint. */
export type FleetLockApi = 'pre-reboot' | 'steady-state';

/** The relative path of each operation, joined onto the base URL. */
export const API_PATHS: Readonly<Record<FleetLockApi, string>> = {
  'pre-reboot': 'v1/pre-reboot',
  'steady-state': 'v1/steady-state',
};

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
  if (id.length > MAX_ID_LENGTH || [...id].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
    return {
      ok: false,
      kind: 'invalid_client_params',
      value: `'client_params.id' must be at most ${MAX_ID_LENGTH} printable characters`,
    };
  }
  if (typeof group !== 'string' || !GROUP_PATTERN.test(group)) {
    return {
      ok: false,
      kind: 'invalid_client_params',
      value: "'client_params.group' must be a non-empty string matching ^[a-zA-Z0-9.-]+$",
    };
  }
  return { ok: true, params: { id, group } };
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
