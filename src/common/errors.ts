/**
 * Base of every typed error in the project.
 *
 * `code` is stable and documented in `docs/reference/errors.md`; `kind` is a short label safe to use
 * as a metric label or a protocol error kind (e.g. Zincati's `generic_http_503`). Match on `code`,
 * never on `instanceof`, across capability boundaries.
 */
export class AltError extends Error {
  /** Stable machine-readable code, e.g. `CONFIG_INVALID`. */
  readonly code: string;
  /** Low-cardinality label for metrics and protocol error bodies. */
  readonly kind: string;

  constructor(code: string, message: string, options: { kind?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.kind = options.kind ?? code.toLowerCase();
  }
}

/** Renders an error and its `cause` chain one message per line, outermost first. */
export function errorChain(err: unknown): string[] {
  const lines: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 16; depth++) {
    if (cur instanceof Error) {
      lines.push(cur.message);
      cur = (cur as { cause?: unknown }).cause;
    } else {
      lines.push(String(cur));
      break;
    }
  }
  return lines;
}

/** Exhaustiveness guard for discriminated unions: compile error when a case is missed. */
export function assertNever(what: string, value: never): never {
  throw new AltError('INTERNAL_UNREACHABLE', `unreachable: ${what}: ${JSON.stringify(value)}`);
}
