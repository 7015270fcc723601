/**
 * Memory of releases abandoned after repeated stage failures. Zincati retries an abandoned release
 * at the next check; we skip it for `abandonMs` and then allow one more round of attempts.
 * Immutable: every change returns a new list, so the agent state stays a plain value.
 */
export class AbandonList {
  readonly #abandonMs: number;
  readonly #until: ReadonlyMap<string, number>;

  /** `abandonMs` is how long a payload is skipped; `entries` are `[payload, untilMs]` pairs. */
  constructor(abandonMs: number, entries: Iterable<readonly [string, number]> = []) {
    this.#abandonMs = Math.max(0, abandonMs);
    this.#until = new Map(entries);
  }

  /** Builds an empty list from `updates.abandon_secs`. */
  static fromSecs(abandonSecs: number): AbandonList {
    return new AbandonList(abandonSecs * 1000);
  }

  /** Marks `payload` abandoned from `nowMs` for the configured time. */
  abandon(payload: string, nowMs: number): AbandonList {
    const next = new Map(this.#until);
    next.set(payload, nowMs + this.#abandonMs);
    return new AbandonList(this.#abandonMs, next);
  }

  /** True while `payload` must be skipped at `nowMs`. */
  isAbandoned(payload: string, nowMs: number): boolean {
    const until = this.#until.get(payload);
    return until !== undefined && nowMs < until;
  }

  /** Payloads skipped at `nowMs`: add them to the selection denylist. */
  active(nowMs: number): string[] {
    return [...this.#until].filter(([, until]) => nowMs < until).map(([p]) => p);
  }

  /** Drops expired entries. */
  prune(nowMs: number): AbandonList {
    return new AbandonList(this.#abandonMs, [...this.#until].filter(([, until]) => nowMs < until));
  }

  /** `[payload, untilMs]` pairs, for status output and persistence. */
  entries(): [string, number][] {
    return [...this.#until];
  }
}
