// The single-flight runner: one tick at a time, sleeping through the injected Clock between ticks.
// "check now" / "update now" requests only wake the sleep (or, during a tick, skip the next sleep),
// so they are serialised with the ticks by construction. An "update now" applies to the next tick
// only: that tick either finalizes or the request is dropped and its callers get the reason.
// Everything is cancelled by one AbortSignal.
import { errorChain } from '../common/errors.js';
import { AgentStoppedError, NothingStagedError, UpdateNowFailedError } from './errors.js';
import type { AgentSnapshot, OperatorPort } from './operator/snapshot.js';
import { AgentMemory, type AgentDeps } from './context.js';
import { updateNowRefusal } from './decide.js';
import type { AgentEvent } from './events.js';
import type { Logger } from './ports.js';
import { INITIAL_STATE, type AgentState } from './state.js';
import { statusText } from './status.js';
import { runTick } from './tick.js';
import { DEFAULT_REFRESH_SECS, nextDelayMs } from './timing.js';
import { IllegalTransitionError, transition } from './transition.js';

/** Result of one step (tick + transition), returned for tests and the loop. */
export interface StepResult {
  /** The event the tick produced (null when the tick failed unexpectedly). */
  readonly event: AgentEvent | null;
  /** State after the step. */
  readonly state: AgentState;
  /** Delay before the next tick, in ms. */
  readonly delayMs: number;
}

// A newer release moving in while one waits keeps the first time: the node has been behind since then.
function holdsPendingRelease(s: AgentState): boolean {
  return s.kind === 'update_available' || s.kind === 'update_staged' || s.kind === 'update_finalized' || (s.kind === 'end' && s.release !== null);
}

/** A caller of checkNow/updateNow waiting for its tick. */
interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  /** An "update now" request: rejected when its tick does not finalize. */
  readonly updateNow: boolean;
}

/** The agent: state, memory and the tick loop; also the operator surface's port. */
export class Agent implements OperatorPort {
  readonly #deps: AgentDeps;
  readonly #log: Logger;
  readonly #mem = new AgentMemory();
  readonly #listeners = new Set<(s: AgentSnapshot) => void>();
  #state: AgentState = INITIAL_STATE;
  #status = '';
  #lastRefreshMs: number | null = null;
  // Since when the state has held a release not booted yet (the "stuck on an old release" alert).
  #pendingSinceMs: number | null = null;
  #wake: AbortController | null = null;
  #wakePending = false;
  #stopped = false;
  // Callers of checkNow/updateNow waiting for the next tick to start (queued) and to end (running).
  #queued: Waiter[] = [];
  #running: Waiter[] = [];

  constructor(deps: AgentDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'agent' });
  }

  /** Current state. */
  get state(): AgentState {
    return this.#state;
  }

  /** The operator view of the agent (D-Bus properties, `alt-updatectl status`). */
  snapshot(): AgentSnapshot {
    const st = this.#state;
    const target = 'release' in st ? (st.release?.version ?? null) : null;
    return {
      state: st.kind,
      bootedVersion: this.#mem.booted?.version ?? null,
      bootedChecksum: this.#mem.booted?.checksum ?? null,
      targetVersion: target,
      stagedVersion: st.kind === 'update_staged' || st.kind === 'update_finalized' || st.kind === 'end' ? (st.release?.version ?? null) : null,
      lastCheckTimeMs: this.#mem.lastCheckMs,
      strategy: this.#deps.strategy.label,
      statusText: this.#status,
      healthVerdict: this.#mem.health?.verdict ?? null,
      healthFailedChecks: this.#mem.health?.failedChecks ?? [],
    };
  }

  /** Start of the last tick (ms), or null before the first. */
  get lastRefreshMs(): number | null {
    return this.#lastRefreshMs;
  }

  /** Calls `listener` after every step; returns the unsubscribe function. */
  onChange(listener: (s: AgentSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs a tick (an update check in the polling states) now; resolves when that tick is done. */
  checkNow(): Promise<void> {
    this.#log.info({ event: 'check_requested' }, 'update check requested');
    return this.#requestTick(false);
  }

  /**
   * Finalizes the staged update on the next tick: bypasses the strategy and the users' grace period,
   * never a block inhibitor logind reports (coreos/zincati#498); an unanswered inhibitor query does
   * not stop it. Applies to that one tick: resolves when it finalized, else rejects with
   * `UpdateNowFailedError` saying why (the request is dropped). Rejects with `NothingStagedError`
   * when nothing is staged.
   */
  updateNow(): Promise<void> {
    if (this.#state.kind !== 'update_staged') return Promise.reject(new NothingStagedError(this.#state.kind));
    this.#log.info({ event: 'update_now_requested' }, 'finalization requested by the operator');
    return this.#requestTick(true);
  }

  /** Runs ticks until `signal` aborts, then sends STOPPING=1. Never throws for tick failures. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#deps.settings.updates.allowDowngrade) this.#log.warn({}, 'client configuration allows (possibly vulnerable) downgrades via auto-updates logic');
    while (!signal.aborted) {
      const { delayMs } = await this.step(signal);
      if (signal.aborted) break;
      if (this.#wakePending || delayMs <= 0) {
        this.#wakePending = false;
        continue;
      }
      const wake = new AbortController();
      const onAbort = (): void => wake.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#wake = wake;
      try {
        await this.#deps.clock.sleep(delayMs, wake.signal);
      } catch {
        // Woken by a request or aborted: the loop condition tells which.
      } finally {
        signal.removeEventListener('abort', onAbort);
        this.#wake = null;
      }
      this.#wakePending = false;
    }
    this.#stopped = true;
    for (const w of [...this.#queued, ...this.#running]) w.reject(new AgentStoppedError());
    this.#queued = [];
    this.#running = [];
    this.#status = '';
    await this.#notify(() => this.#deps.notifier.status(''));
    await this.#notify(() => this.#deps.notifier.stopping());
  }

  /** One tick plus its transition and notifications. */
  async step(signal?: AbortSignal): Promise<StepResult> {
    const deps = this.#deps;
    const nowMs = deps.clock.nowMs();
    this.#lastRefreshMs = nowMs;
    deps.metrics.refreshed(nowMs);
    const prev = this.#state;
    this.#running.push(...this.#queued);
    this.#queued = [];
    // The request lives for this one tick: whatever the tick does, it is gone afterwards.
    const updateNow = this.#running.some((w) => w.updateNow);
    this.#mem.updateNowRequested = updateNow;
    this.#mem.notFinalizedBecause = null;
    let event: AgentEvent | null = null;
    try {
      event = await runTick(prev, deps, this.#mem, this.#log, signal);
    } catch (err: unknown) {
      if (!signal?.aborted) {
        this.#log.error({ event: 'tick_failed', state: prev.kind, err: errorChain(err).join(': ') }, 'unexpected tick failure');
      }
    } finally {
      this.#mem.updateNowRequested = false;
    }
    const refusal = updateNow ? updateNowRefusal(prev.kind, event?.type ?? null, this.#mem.notFinalizedBecause) : null;
    if (refusal !== null) {
      this.#log.warn({ event: 'update_now_failed', reason: refusal }, `update now: the staged update was not finalized: ${refusal}`);
    }
    let next = prev;
    if (event !== null) {
      try {
        next = transition(prev, event);
      } catch (err: unknown) {
        if (!(err instanceof IllegalTransitionError)) throw err;
        this.#log.error({ event: 'illegal_transition', from: err.from, on: err.event }, err.message);
      }
    }
    this.#state = next;
    const after = deps.clock.nowMs();
    const pending = holdsPendingRelease(next);
    if (pending !== (this.#pendingSinceMs !== null)) {
      this.#pendingSinceMs = pending ? after : null;
      deps.metrics.updatePending(this.#pendingSinceMs);
    }
    if (next.kind !== prev.kind) {
      deps.metrics.stateChanged(after);
      this.#log.debug({ event: 'state_changed', from: prev.kind, to: next.kind }, `state ${prev.kind} -> ${next.kind}`);
    }
    const text = statusText(next, after, { updatesEnabled: deps.settings.updates.enabled });
    if (text !== this.#status) {
      this.#status = text;
      await this.#notify(() => deps.notifier.status(text));
    }
    let delayMs = nextDelayMs(prev, next, {
      steadyIntervalSecs: deps.settings.agent.timing.steadyIntervalSecs,
      stagedIntervalSecs: deps.settings.agent.timing.stagedIntervalSecs,
      postponementSecs: deps.settings.agent.timing.postponementIntervalSecs,
      random: deps.random,
      nowMs: after,
      // Only a staged update waits for the strategy's clock; the scan is skipped elsewhere.
      strategyChangeMs: next.kind === 'update_staged' ? (deps.strategy.nextChangeMs?.(after) ?? null) : null,
    });
    if (event === null) delayMs = Math.max(delayMs, DEFAULT_REFRESH_SECS * 1000);
    const snap = this.snapshot();
    for (const l of this.#listeners) l(snap);
    for (const w of this.#running) {
      if (w.updateNow && refusal !== null) w.reject(new UpdateNowFailedError(refusal));
      else w.resolve();
    }
    this.#running = [];
    return { event, state: next, delayMs };
  }

  #requestTick(updateNow: boolean): Promise<void> {
    if (this.#stopped) return Promise.reject(new AgentStoppedError());
    const done = new Promise<void>((resolve, reject) => this.#queued.push({ resolve, reject, updateNow }));
    this.#wakeUp();
    return done;
  }

  #wakeUp(): void {
    if (this.#wake !== null) this.#wake.abort();
    else this.#wakePending = true;
  }

  async #notify(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err: unknown) {
      this.#log.error({ event: 'notify_failed', err: errorChain(err).join(': ') }, 'failed to notify the service manager');
    }
  }
}
