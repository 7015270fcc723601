// The FleetLock slot goes back only on a healthy boot (issue 15): the agent's `healthy()` for the
// fleet_lock strategy reads the health record on disk, after the verdict went to the fleet.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slotReleaseHealth } from '../../../src/agent/adapters/health.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { fileHealthStore } from '../../../src/health/store.js';

const BOOT = 'boot-now';
const deployment = { payload: 'a'.repeat(64), serial: 0 };
const trialArmedIn = (bootId: string, lastBootId: string | null = null) => ({
  release: 'v2',
  expected: deployment,
  previous: { ...deployment, payload: 'b'.repeat(64) },
  armedBootId: bootId,
  maxAttempts: 2,
  attempts: 0,
  lastBootId,
  phase: 'armed',
  rollbackTo: null,
  rollbackBootId: null,
});
const verdict = (v: string, bootId = BOOT) => ({ verdict: v, release: 'v2', bootId, atMs: 1, reason: null, checks: [] });
const record = (o: Record<string, unknown>) => JSON.stringify({ version: 1, trial: null, failed: [], last: null, manual: null, report: null, ...o });

describe('agent: the reboot slot is released only when the health record says this boot is healthy', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slot-health-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));
  const healthyWith = async (text: string | null) => {
    const path = join(dir, 'health.json');
    if (text !== null) await writeFile(path, text);
    const logger = memoryLogger();
    const healthy = slotReleaseHealth(fileHealthStore(path), () => Promise.resolve(BOOT), Promise.resolve(), logger);
    return { ok: await healthy(), logger };
  };

  it.each([
    ['no record (health never ran)', null, true],
    ['this boot judged green', record({ last: verdict('healthy') }), true],
    ['this boot red, another attempt ahead', record({ last: verdict('rebooting') }), false],
    ['a trial armed earlier, this boot counted as an attempt, no verdict yet', record({ trial: trialArmedIn('boot-before', BOOT) }), false],
    ['a trial armed earlier, this boot red', record({ trial: { ...trialArmedIn('boot-before', BOOT), attempts: 1 }, last: verdict('rebooting') }), false],
    ['manual intervention required', record({ manual: 'checks failed', last: verdict('manual_intervention') }), false],
  ])('%s: %s', async (_name, text, want) => {
    expect((await healthyWith(text)).ok).toBe(want);
  });

  it('gives the slot back, with one warning, when the health unit never ran in this boot (not enabled)', async () => {
    const { ok, logger } = await healthyWith(record({ trial: trialArmedIn('boot-before') }));
    expect(ok).toBe(true);
    expect(logger.records.filter((r) => r.fields.event === 'health_not_judged').map((r) => r.level)).toEqual(['warn']);
  });

  it('keeps the slot and says why when the record cannot be read', async () => {
    const { ok, logger } = await healthyWith('{ not json');
    expect(ok).toBe(false);
    expect(logger.records.find((r) => r.fields.event === 'health_record_unreadable')?.level).toBe('error');
  });

  it('answers only after the verdict report to the fleet settled', async () => {
    let sent!: () => void;
    const verdictSent = new Promise<void>((resolve) => (sent = resolve));
    const healthy = slotReleaseHealth(fileHealthStore(join(dir, 'health.json')), () => Promise.resolve(BOOT), verdictSent, memoryLogger());
    let answered = false;
    const answer = healthy().then((v) => ((answered = true), v));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    sent();
    await expect(answer).resolves.toBe(true);
  });
});
