// A signal for one request: aborted by the caller's signal or by a deadline, and gone without a trace
// when the request is done. Not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: on Node 20 every
// `any` call adds a WeakRef to the long-lived caller signal that is only dropped when that signal
// aborts (one per poll, for the agent's lifetime), and each `AbortSignal.timeout` keeps its timer
// (and what it closes over) alive for the whole timeout after the request ended. Measured by
// bench/agent-idle.mjs (docs/development/benchmarks.md).

/** One request's abort signal; call `done()` when the request settled. */
export interface Deadline {
  /** Aborts when the caller's signal does or when the deadline passes. */
  readonly signal: AbortSignal;
  /** True once the deadline (not the caller) aborted `signal`. */
  readonly timedOut: boolean;
  /** Clears the timer and detaches from the caller's signal; idempotent. */
  done(): void;
}

/** Starts a deadline of `ms` milliseconds, tied to `parent` when given. */
export function startDeadline(ms: number, parent?: AbortSignal): Deadline {
  const ac = new AbortController();
  let timedOut = false;
  const onParentAbort = (): void => ac.abort(parent?.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new DOMException(`deadline of ${ms} ms passed`, 'TimeoutError'));
  }, ms);
  // A pending request keeps the process alive on its own; the timer need not.
  timer.unref();
  if (parent?.aborted === true) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: ac.signal,
    get timedOut() {
      return timedOut;
    },
    done() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
