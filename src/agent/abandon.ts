/**
 * Releases abandoned after repeated stage failures, each skipped until its deadline. Time is passed
 * in, so the list is a pure data structure (no clock inside).
 */
export class AbandonList {
  readonly #until = new Map<string, number>();

  /** Skips `payload` until `untilMs`. */
  add(payload: string, untilMs: number): void {
    this.#until.set(payload, untilMs);
  }

  /** Payloads still skipped at `nowMs` (expired entries are forgotten). */
  active(nowMs: number): Set<string> {
    const out = new Set<string>();
    for (const [payload, until] of this.#until) {
      if (until > nowMs) out.add(payload);
      else this.#until.delete(payload);
    }
    return out;
  }
}
