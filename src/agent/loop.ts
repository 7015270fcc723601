// The single-flight runner: one tick at a time, sleeping through the injected Clock between ticks.
// "check now" / "update now" requests only wake the sleep (or, during a tick, skip the next sleep),
// so they are serialised with the ticks by construction. Everything is cancelled by one AbortSignal.
import { errorChain } from '../common/errors.js';
import type { Deployment } from '../ostree/deployment.js';
import type { StrategyLabel } from '../config/types.js';
import { AgentMemory, type AgentDeps } from './context.js';
import type { AgentEvent } from './events.js';
import type { Logger } from './ports.js';
import { INITIAL_STATE, type AgentState } from './state.js';
import { statusText } from './status.js';
import { runTick } from './tick.js';
import { DEFAULT_REFRESH_SECS, nextDelayMs } from './timing.js';
import { IllegalTransitionError, transition } from './transition.js';

/** Read-only view of the agent for the operator surface (D-Bus properties, status). */
export interface AgentSnapshot {
  /** Current state. */
  readonly state: AgentState;
  /** Current STATUS text. */
  readonly status: string;
  /** Booted deployment, once known. */
  readonly booted: Deployment | null;
  /** Last successful graph check (ms), or null. */
  readonly lastCheckMs: number | null;
  /** Start of the last tick (ms), or null. */
  readonly lastRefreshMs: number | null;
  /** Configured strategy. */
  readonly strategy: StrategyLabel;
}

/** Result of one step (tick + transition), returned for tests and the loop. */
export interface StepResult {
  /** The event the tick produced (null when the tick failed unexpectedly). */
  readonly event: AgentEvent | null;
  /** State after the step. */
  readonly state: AgentState;
  /** Delay before the next tick, in ms. */
  readonly delayMs: number;
}

/** The agent: state, memory and the tick loop. */
export class Agent {
  readonly #deps: AgentDeps;
  readonly #log: Logger;
  readonly #mem = new AgentMemory();
  readonly #listeners = new Set<(s: AgentSnapshot) => void>();
  #state: AgentState = INITIAL_STATE;
  #status = '';
  #lastRefreshMs: number | null = null;
  #wake: AbortController | null = null;
  #wakePending = false;

  constructor(deps: AgentDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'agent' });
  }

  /** The current snapshot. */
  get snapshot(): AgentSnapshot {
    return {
      state: this.#state,
      status: this.#status,
      booted: this.#mem.booted,
      lastCheckMs: this.#mem.lastCheckMs,
      lastRefreshMs: this.#lastRefreshMs,
      strategy: this.#deps.strategy.label,
    };
  }

  /** Calls `listener` after every step; returns the unsubscribe function. */
  onChange(listener: (s: AgentSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs the next tick as soon as the current one (if any) is done. */
  checkNow(): void {
    this.#log.info({ event: 'check_requested' }, 'update check requested');
    this.#wakeUp();
  }

  /**
   * Allows the pending (or next staged) update to be finalized now: bypasses the strategy and the
   * users' grace period, never block inhibitors (coreos/zincati#498).
   */
  updateNow(): void {
    this.#mem.updateNowRequested = true;
    this.#log.info({ event: 'update_now_requested' }, 'finalization requested by the operator');
    this.#wakeUp();
  }

  /** Runs ticks until `signal` aborts, then sends STOPPING=1. Never throws for tick failures. */
  async run(signal: AbortSignal): Promise<void> {
    const m = this.#deps.settings.updates;
    this.#deps.metrics.settings({ updatesEnabled: m.enabled, allowDowngrade: m.allowDowngrade, strategy: m.strategy });
    if (m.allowDowngrade) this.#log.warn({}, 'client configuration allows (possibly vulnerable) downgrades via auto-updates logic');
    while (!signal.aborted) {
      const { delayMs } = await this.step(signal);
      if (signal.aborted) break;
      if (this.#wakePending) {
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
    let event: AgentEvent | null = null;
    try {
      event = await runTick(prev, deps, this.#mem, this.#log, signal);
    } catch (err: unknown) {
      if (!signal?.aborted) {
        this.#log.error({ event: 'tick_failed', state: prev.kind, err: errorChain(err).join(': ') }, 'unexpected tick failure');
      }
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
    if (next.kind !== prev.kind) {
      deps.metrics.stateChanged(next.kind, after);
      this.#log.debug({ event: 'state_changed', from: prev.kind, to: next.kind }, `state ${prev.kind} -> ${next.kind}`);
    }
    const text = statusText(next, after, { updatesEnabled: deps.settings.updates.enabled });
    if (text !== this.#status) {
      this.#status = text;
      await this.#notify(() => deps.notifier.status(text));
    }
    // READY after the first start tick, success or not: a backend that is still starting must not
    // fail the unit start; STATUS tells the retry count meanwhile.
    if (!this.#mem.readyNotified) {
      this.#mem.readyNotified = true;
      await this.#notify(() => deps.notifier.ready());
    }
    let delayMs = nextDelayMs(prev, next, {
      steadyIntervalSecs: deps.settings.agent.timing.steadyIntervalSecs,
      random: deps.random,
      nowMs: after,
      strategyChangeMs: deps.strategy.nextChangeMs?.(after) ?? null,
    });
    if (event === null) delayMs = Math.max(delayMs, DEFAULT_REFRESH_SECS * 1000);
    const snap = this.snapshot;
    for (const l of this.#listeners) l(snap);
    return { event, state: next, delayMs };
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
