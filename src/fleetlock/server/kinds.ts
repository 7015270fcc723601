// The closed set of error kinds alt-fleetlockd answers with, and their HTTP status. Kinds are
// metric labels on both sides (Zincati counts them), so the set must stay small and stable; it is
// documented in docs/usage/fleetlock-server.md and a test keeps the two in sync.

/** Every error kind with its HTTP status. */
export const ERROR_KINDS = {
  /** The request target is not a valid URL (e.g. `//[`). */
  invalid_request_target: 400,
  /** `fleet-lock-protocol: true` header missing or wrong. */
  missing_protocol_header: 400,
  /** Body is not JSON or lacks an object `client_params`. */
  invalid_body: 400,
  /** `client_params.id` or `.group` missing or malformed. */
  invalid_client_params: 400,
  /** `v1/verdict`: `verdict.result`, `.release` or `.reason` missing or malformed. */
  invalid_verdict: 400,
  /** Missing or wrong bearer token (group token or admin token). */
  unauthorized: 401,
  /** The admin API is disabled (no `admin_token` configured). */
  admin_disabled: 403,
  /** The listener requires a client certificate (`tls.client_ca_file`) and none was sent. */
  client_cert_required: 403,
  /** The client certificate sent does not chain to `tls.client_ca_file`, or has expired. */
  client_cert_rejected: 403,
  /** No such route. */
  not_found: 404,
  /** The group is not configured on this server. */
  unknown_group: 404,
  /** Wrong HTTP method for the route. */
  method_not_allowed: 405,
  /** pre-reboot outside the group's maintenance windows. */
  outside_maintenance_window: 409,
  /** pre-reboot in a group halted by its failure policy; an operator must resume it. */
  group_halted: 409,
  /** Request body over 64 KiB. */
  body_too_large: 413,
  /** Every slot of the group is held by another id (the kind the FleetLock spec suggests). */
  failed_lock_semaphore_full: 423,
  /** Unexpected server fault. */
  internal_error: 500,
  /** The lock store cannot be read or written now; retry later. */
  store_unavailable: 503,
} as const satisfies Record<string, number>;

/** An error kind alt-fleetlockd may answer with. */
export type ErrorKind = keyof typeof ERROR_KINDS;
