// The agent's HealthPort over the health record file (src/health/store.ts).
import { errorChain } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { armTrial } from '../../health/arm.js';
import { bootHealthy, healthNotRunThisBoot } from '../../health/decide.js';
import type { HealthStore } from '../../health/store.js';
import type { HealthPort } from '../ports.js';

/** A HealthPort over `store`; `bootId` reads this boot's id, `maxAttempts` is `health.boot_attempts`. */
export function healthPort(store: HealthStore, bootId: () => Promise<string>, maxAttempts: number): HealthPort {
  return {
    facts: async () => {
      const r = await store.read();
      return {
        failed: r.failed.map((f) => ({ release: f.release, payload: f.payload, reason: f.reason, rolledBack: f.rolledBack })),
        manual: r.manual,
        lastVerdict: r.last?.verdict ?? null,
        failedChecks: (r.last?.checks ?? []).filter((c) => c.result === 'failed' || c.result === 'timeout').map((c) => ({ name: c.name, outputTail: c.outputTail })),
      };
    },
    arm: async (release, staged, booted) => {
      const record = await store.read();
      const next = armTrial(record, {
        release,
        expected: { payload: staged.checksum, serial: staged.serial },
        previous: { payload: booted.checksum, serial: booted.serial },
        bootId: await bootId(),
        maxAttempts,
      });
      if (next !== record) await store.write(next);
    },
  };
}

/**
 * Sends the health record's pending final verdict (healthy, failed, rolled_back) to the fleet through
 * `send` (alt-fleetlockd's `v1/verdict`, src/fleetlock/client.ts `reportVerdict`) and clears it once
 * accepted. A failure is logged and the verdict kept for the next start: never lost, maybe repeated
 * (the server counts each node and release once).
 */
export async function reportPendingVerdict(
  store: HealthStore,
  send: (v: { readonly result: 'healthy' | 'failed' | 'rolled_back'; readonly release: string; readonly reason: string | null }) => Promise<{ readonly groupHalted: boolean }>,
  logger: Logger,
): Promise<void> {
  try {
    const record = await store.read();
    const r = record.report;
    if (r === null) return;
    const reply = await send({ result: r.result, release: r.release, reason: r.reason === null ? null : r.reason.slice(0, 1024) });
    const now = await store.read();
    if (now.report !== null && now.report.atMs === r.atMs && now.report.release === r.release) await store.write({ ...now, report: null });
    logger.info({ event: 'health_verdict_reported', result: r.result, release: r.release, groupHalted: reply.groupHalted }, `reported verdict ${r.result} for ${r.release} to the fleet lock server${reply.groupHalted ? '; the group is halted' : ''}`);
  } catch (err: unknown) {
    logger.warn({ event: 'health_verdict_report_failed', err: errorChain(err).join(': ') }, `could not report the health verdict (kept for the next start): ${errorChain(err).join(': ')}`);
  }
}

/**
 * Whether this boot may give its FleetLock reboot slot back: once `verdictSent` settled (the fleet
 * heard the verdict first, so it can halt the group before another node gets the slot), the health
 * record must say this boot is healthy (src/health/decide.ts `bootHealthy`). The agent also starts on
 * a red boot (it only Wants= boot-complete.target), so "the agent runs" does not mean "healthy". A
 * record that cannot be read keeps the slot: never hand the group's slot on on doubt. A host where
 * alt-updated-health.service never ran this boot (not enabled) has no verdict to wait for: the slot
 * goes back as before health checks existed, with one warning (`health_not_judged`), instead of
 * being held for good.
 */
export function slotReleaseHealth(store: HealthStore, bootId: () => Promise<string>, verdictSent: Promise<void>, logger: Logger): () => Promise<boolean> {
  let warned = false;
  return async () => {
    await verdictSent;
    try {
      const record = await store.read();
      const id = await bootId();
      if (bootHealthy(record, id)) return true;
      if (!healthNotRunThisBoot(record, id)) return false;
      if (!warned) {
        warned = true;
        logger.warn(
          { event: 'health_not_judged', release: record.trial?.release ?? null },
          `the update to ${record.trial?.release ?? '?'} was armed for a health verdict, but alt-updated-health.service did not run in this boot (is it enabled?): giving the reboot slot back without one`,
        );
      }
      return true;
    } catch (err: unknown) {
      logger.error({ event: 'health_record_unreadable', err: errorChain(err).join(': ') }, `cannot read the health record, keeping the reboot slot: ${errorChain(err).join(': ')}`);
      return false;
    }
  };
}
