// The health run's shell over a simulated node: every effect is recorded before it happens, so a
// kill -9 at any step is resumed by the next boot without a second rollback or a lost verdict.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { runHealth, type HealthRunPorts } from '../../../src/health/boot.js';
import { EMPTY_RECORD, type CheckOutcome, type HealthRecord } from '../../../src/health/record.js';
import type { HealthStore } from '../../../src/health/store.js';
import type { Deployment, DeploymentSet } from '../../../src/ostree/deployment.js';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);

class Killed extends Error {}

/** A node: deployments in boot order, a record, and a kill switch on the n-th effect. */
class SimNode {
  order = [NEW, OLD];
  booted = NEW;
  boot = 1;
  record: HealthRecord;
  rebootPending = false;
  rollbacks = 0;
  effects = 0;
  killAt = -1;
  killAfter = false;
  readonly logger = memoryLogger();
  constructor(readonly unhealthy: Set<string>, maxAttempts = 2) {
    this.record = {
      ...EMPTY_RECORD,
      trial: { release: 'v2', expected: { payload: NEW, serial: 0 }, previous: { payload: OLD, serial: 0 }, armedBootId: 'boot-0', maxAttempts, attempts: 0, lastBootId: null, phase: 'armed', rollbackTo: null, rollbackBootId: null },
    };
  }
  /** Runs `fn` as the next effect, dying before (or after) it when it is the chosen one. */
  effect(fn: () => void): void {
    const n = this.effects++;
    if (n === this.killAt && !this.killAfter) throw new Killed();
    fn();
    if (n === this.killAt && this.killAfter) throw new Killed();
  }
  set(): DeploymentSet {
    const dep = (c: string): Deployment => ({ id: `x-${c}.0`, osname: 'x', checksum: c, version: c === NEW ? 'v2' : 'v1', origin: null, stream: null, timestampMs: 0, serial: 0, booted: c === this.booted, staged: false, finalizationLocked: false, pinned: false });
    const ds = this.order.map(dep);
    const bi = this.order.indexOf(this.booted);
    return { deployments: ds, booted: ds[bi]!, staged: null, rollback: ds[bi + 1] ?? null };
  }
  ports(): HealthRunPorts {
    const store: HealthStore = { path: 'mem', read: async () => this.record, write: async (r) => this.effect(() => (this.record = r)) };
    const checks = (): CheckOutcome[] => [{ name: 'app', kind: 'required', result: this.unhealthy.has(this.booted) ? 'failed' : 'passed', exitCode: this.unhealthy.has(this.booted) ? 1 : 0, outputTail: '' }];
    return {
      store,
      clock: new ManualClock(1_000),
      logger: this.logger,
      deployments: async () => this.set(),
      runChecks: async () => checks(),
      runHooks: async () => undefined,
      rollback: async () =>
        this.effect(() => {
          const back = this.set().rollback!.checksum;
          this.order = [back, ...this.order.filter((c) => c !== back)];
          this.rollbacks++;
          this.rebootPending = true;
        }),
      removePending: async () => this.effect(() => (this.order = this.order.filter((c) => c !== this.order[0] || c === this.booted))),
      reboot: async () => this.effect(() => (this.rebootPending = true)),
      motd: async () => undefined,
    };
  }
  /** Boots until a boot does not ask for a reboot; a killed run is followed by a reboot (watchdog or person). */
  async run(maxBoots = 10): Promise<void> {
    for (let i = 0; i < maxBoots; i++) {
      this.booted = this.order[0]!;
      this.rebootPending = false;
      let killed = false;
      try {
        await runHealth(this.ports(), `boot-${this.boot}`);
      } catch (err: unknown) {
        if (!(err instanceof Killed)) throw err;
        killed = true;
      }
      this.boot++;
      if (!this.rebootPending && !killed) return;
    }
    throw new Error('boot loop');
  }
}

describe('health/boot: the verdict path on a simulated node', () => {
  it('a release whose required check fails is retried, rolled back once, and ends healthy on the previous release', async () => {
    const n = new SimNode(new Set([NEW]));
    await n.run();
    expect(n.rollbacks).toBe(1);
    expect(n.booted).toBe(OLD);
    expect(n.record.trial).toBeNull();
    expect(n.record.failed.map((f) => [f.payload, f.rolledBack])).toEqual([[NEW, true]]);
    expect(n.record.last?.verdict).toBe('rolled_back');
    expect(n.record.report).toEqual({ result: 'rolled_back', release: 'v2', reason: expect.stringContaining('app failed') as string, atMs: 1_000 });
    expect(n.boot - 1).toBe(3); // red, red (budget 2), then the previous release
    expect(n.logger.records.map((r) => r.fields['event']).filter((e) => typeof e === 'string' && e !== 'health_verdict')).toEqual([
      'health_attempt', 'health_reboot_retry', 'health_attempt', 'health_rollback_requested', 'health_rolled_back',
    ]);
  });

  it('a check red once and green on the next attempt: no rollback', async () => {
    const n = new SimNode(new Set([NEW]));
    const ports = n.ports.bind(n);
    n.ports = () => {
      const p = ports();
      return { ...p, runChecks: async () => { const r = await p.runChecks(); if (n.boot >= 2) n.unhealthy.clear(); return n.boot >= 2 ? r.map((c) => ({ ...c, result: 'passed' as const, exitCode: 0 })) : r; } };
    };
    await n.run();
    expect(n.rollbacks).toBe(0);
    expect(n.booted).toBe(NEW);
    expect(n.record.last?.verdict).toBe('healthy');
    expect(n.record.report?.result).toBe('healthy');
    expect(n.record.failed).toEqual([]);
  });

  it('a boot loader fallback is made permanent and recorded as a failed release', async () => {
    const n = new SimNode(new Set());
    n.order = [NEW, OLD];
    n.booted = OLD;
    await runHealth(n.ports(), 'boot-1');
    expect(n.order).toEqual([OLD]);
    expect(n.record.failed.map((f) => f.payload)).toEqual([NEW]);
    expect(n.record.last?.verdict).toBe('fallback');
    expect(n.record.report?.result).toBe('failed');
    expect(n.rollbacks).toBe(0);
  });

  for (const after of [false, true]) {
    for (let k = 0; k < 9; k++) {
      it(`kill -9 ${after ? 'after' : 'before'} effect #${k}: one rollback at most, the verdict is not lost`, async () => {
        const n = new SimNode(new Set([NEW]));
        n.killAt = k;
        n.killAfter = after;
        await n.run();
        expect(n.rollbacks).toBe(1);
        expect(n.booted).toBe(OLD);
        expect(n.record.trial).toBeNull();
        expect(n.record.failed.map((f) => f.payload)).toEqual([NEW]);
        expect(n.record.report?.result).toBe('rolled_back');
      });
    }
  }
});
