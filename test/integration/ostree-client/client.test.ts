import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { createOstreeClient, type OstreeClient, type OstreeClientOptions } from '../../../src/ostree/client/index.js';
import { startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';
import { fakeRpmOstreedForTest, type FakeDeployment, type FakeRpmOstreed } from '../../helpers/fake-rpm-ostreed.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const ORIGIN = 'altcos:altcos/x86_64/sisyphus';

function initial(): FakeDeployment[] {
  return [
    { checksum: A, version: '20261101.0.0', origin: ORIGIN, timestampSecs: 1_700_000_000n, serial: 0, booted: true, staged: false, locked: false },
    { checksum: C, version: '20261001.0.0', origin: ORIGIN, timestampSecs: 1_690_000_000n, serial: 0, booted: false, staged: false, locked: false },
  ];
}

/** A clock whose short sleeps (busy backoff) return at once and are recorded; long ones never end. */
function backoffClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    nowMs: () => 0,
    sleep: (ms, signal) => {
      if (ms < 60_000) {
        slept.push(ms);
        return Promise.resolve();
      }
      return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    },
  };
}

async function errorOf(p: Promise<unknown>): Promise<Record<string, unknown>> {
  return p.then(
    () => ({ none: true }),
    (e: unknown) => e as Record<string, unknown>,
  );
}

describe('src/ostree/client against fakeRpmOstreedForTest on a private dbus-daemon', () => {
  let daemon: PrivateBus;
  let fake: FakeRpmOstreed;
  let client: OstreeClient;
  let log: ReturnType<typeof memoryLogger>;
  let clock: Clock & { slept: number[] };
  const make = (extra: Partial<OstreeClientOptions> = {}): OstreeClient =>
    createOstreeClient({ busAddress: daemon.address, clock, logger: log, ...extra });

  beforeAll(async () => {
    daemon = await startPrivateBus();
  });
  afterAll(async () => {
    await daemon.stop();
  });
  beforeEach(async () => {
    fake = await fakeRpmOstreedForTest(daemon.address, initial());
    fake.commits.set(B, { version: '20261115.0.0' });
    log = memoryLogger();
    clock = backoffClock();
    client = make();
  });
  afterEach(async () => {
    await client.close();
    await fake.stop();
  });

  it('reads deployments into domain types (BigInt timestamps, stream, rollback)', async () => {
    const set = await client.status();
    expect(set.booted).toMatchObject({ checksum: A, version: '20261101.0.0', stream: 'sisyphus', timestampMs: 1_700_000_000_000, booted: true });
    expect(set.rollback?.checksum).toBe(C);
    expect(set.staged).toBeNull();
    expect(fake.calls.filter((c) => c.member === 'RegisterClient')).toHaveLength(1);
    const reg = fake.calls.find((c) => c.member === 'RegisterClient')!;
    expect((reg.args[0] as Record<string, { value: unknown }>)['id']!.value).toBe('alt-updated');
  });

  it('stages with every deploy option explicit and returns the confirmed staged deployment', async () => {
    const staged = await client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false });
    expect(staged).toMatchObject({ checksum: B, version: '20261115.0.0', staged: true, finalizationLocked: true, stream: 'sisyphus' });
    const deploy = fake.calls.find((c) => c.member === 'Deploy')!;
    expect(deploy.args[0]).toBe(`revision=${B}`);
    const opts = deploy.args[1] as Record<string, { signature: string; value: unknown }>;
    expect(opts['lock-finalization']).toMatchObject({ signature: 'b', value: true });
    expect(opts['skip-branch-check']).toMatchObject({ signature: 'b', value: true });
    expect(opts['allow-downgrade']).toMatchObject({ signature: 'b', value: false });
    expect(fake.calls.map((c) => c.member)).toContain('Reload');
    expect(log.records.some((r) => r.msg === 'deploy: working' && r.level === 'info')).toBe(true);
  });

  it('reports a staged version that differs from the release as ostree_stage_mismatch', async () => {
    fake.commits.set(B, { version: '20990101.0.0' });
    const err = await errorOf(client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: true }));
    expect(err).toMatchObject({ code: 'OSTREE_STAGE_MISMATCH', kind: 'ostree_stage_mismatch', field: 'version', found: '20990101.0.0' });
  });

  it('reports a staged deployment on another stream as a stream mismatch, unless told not to check', async () => {
    fake.commits.set(B, { version: '20261115.0.0', origin: 'altcos:altcos/x86_64/p11' });
    const err = await errorOf(client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false }));
    expect(err).toMatchObject({ code: 'OSTREE_STAGE_MISMATCH', field: 'stream', expected: 'sisyphus', found: 'p11' });
    const ok = await client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false, confirmStream: false });
    expect(ok.stream).toBe('p11');
  });

  it('retries a busy backend with backoff on the injected clock, then succeeds', async () => {
    fake.busy = 2;
    const staged = await client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false });
    expect(staged.checksum).toBe(B);
    expect(fake.calls.filter((c) => c.member === 'Deploy')).toHaveLength(3);
    expect(clock.slept).toEqual([1000, 2000]);
  });

  it('gives up on a backend that stays busy with ostree_busy', async () => {
    fake.busy = 100;
    client = make({ busyRetry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 20 } });
    const err = await errorOf(client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false }));
    expect(err).toMatchObject({ code: 'OSTREE_BUSY', kind: 'ostree_busy' });
    expect((err['remote'] as { text: string }).text).toMatch(/^Transaction in progress/);
    expect(clock.slept).toEqual([10, 20]);
  });

  it('turns Finished(false) into ostree_transaction_failed with the backend message', async () => {
    fake.script.push('fail');
    const err = await errorOf(client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false }));
    expect(err).toMatchObject({ code: 'OSTREE_TRANSACTION_FAILED', kind: 'ostree_transaction_failed' });
    expect(String(err['message'])).toContain('simulated failure');
  });

  it('reports ostree_backend_gone when the transaction socket dies mid-transaction', async () => {
    fake.script.push('die_peer');
    const err = await errorOf(client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false }));
    expect(err).toMatchObject({ code: 'OSTREE_BACKEND_GONE', kind: 'ostree_backend_gone' });
  });

  it('reports ostree_backend_gone when the backend leaves the bus while its peer socket stays open', async () => {
    fake.script.push('leave_bus');
    const err = await errorOf(client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false }));
    expect(err).toMatchObject({ code: 'OSTREE_BACKEND_GONE' });
  });

  it('times out a transaction that never finishes, calling Cancel first', async () => {
    const manual = new ManualClock(0);
    client = createOstreeClient({ busAddress: daemon.address, clock: manual, logger: log, transactionTimeoutMs: 5_000 });
    fake.script.push('never');
    const result = errorOf(client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false }));
    await fake.waitForCall('Start');
    manual.advance(5_000);
    const err = await result;
    expect(err).toMatchObject({ code: 'OSTREE_TIMEOUT', kind: 'ostree_timeout' });
    expect(fake.calls.map((c) => c.member)).toContain('Cancel');
  });

  it('cancels the transaction and reports ostree_aborted when the caller aborts', async () => {
    // A clock that never fires: only the abort ends the wait (and Cancel gets its full chance).
    client = createOstreeClient({ busAddress: daemon.address, clock: new ManualClock(0), logger: log });
    fake.script.push('never');
    const ac = new AbortController();
    const result = errorOf(client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false }, ac.signal));
    await fake.waitForCall('Start');
    ac.abort();
    expect(await result).toMatchObject({ code: 'OSTREE_ABORTED', kind: 'ostree_aborted' });
    expect(fake.calls.map((c) => c.member)).toContain('Cancel');
  });

  it('unregisters on close', async () => {
    await client.status();
    await client.close();
    expect(fake.calls.map((c) => c.member)).toContain('UnregisterClient');
  });

  it('finalizes with the checksum and cleans up a pending deployment', async () => {
    await client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false });
    await client.finalize(B);
    const fin = fake.calls.find((c) => c.member === 'FinalizeDeployment')!;
    expect((fin.args[0] as Record<string, { value: unknown }>)['checksum']!.value).toBe(B);
    expect((await client.status()).staged?.finalizationLocked).toBe(false);
    await client.cleanupPending();
    expect(fake.calls.find((c) => c.member === 'Cleanup')!.args[0]).toEqual(['pending-deploy']);
    expect((await client.status()).staged).toBeNull();
  });

  it('asks only for the reboot (allow-unlocked) when told the deployment is already unlocked', async () => {
    await client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false });
    fake.calls.length = 0;
    await client.finalize(B);
    await client.finalize(B, { alreadyUnlocked: true }).catch(() => undefined);
    const opts = fake.calls.filter((c) => c.member === 'FinalizeDeployment').map((c) => c.args[0] as Record<string, { value: unknown }>);
    expect(opts.map((o) => o['allow-unlocked']?.value ?? null)).toEqual([null, true]);
  });

  it('reports a refused finalization (wrong checksum) as a failed transaction', async () => {
    await client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false });
    const err = await errorOf(client.finalize(C));
    expect(err).toMatchObject({ code: 'OSTREE_TRANSACTION_FAILED' });
    expect(String(err['message'])).toContain('Expected staged base checksum');
  });

  it('registers as the update driver through Deploy("", register-driver)', async () => {
    await client.registerDriver();
    const d = fake.calls.find((c) => c.member === 'Deploy')!;
    expect(d.args[0]).toBe('');
    expect((d.args[1] as Record<string, { value: unknown }>)['register-driver']!.value).toBe('alt-updated');
  });

  it('maps AccessDenied to ostree_access_denied', async () => {
    fake.denied.add('Deploy');
    const err = await errorOf(client.stage({ payload: B, version: '20261115.0.0' }, { allowDowngrade: false }));
    expect(err).toMatchObject({ code: 'OSTREE_ACCESS_DENIED', kind: 'ostree_access_denied' });
  });

  it('re-registers after the backend restarts', async () => {
    await client.status();
    await fake.stop();
    fake = await fakeRpmOstreedForTest(daemon.address, initial());
    // The NameOwnerChanged signals have reached the client once one more bus round trip is done.
    await createOstreeClient({ busAddress: daemon.address, clock, logger: memoryLogger() }).close();
    await client.status();
    expect(fake.calls.filter((c) => c.member === 'RegisterClient')).toHaveLength(1);
  });

  it('reports ostree_backend_gone when no backend owns the name', async () => {
    await fake.stop();
    const err = await errorOf(make().status());
    expect(err).toMatchObject({ kind: 'ostree_backend_gone' });
    fake = await fakeRpmOstreedForTest(daemon.address, initial());
  });
});
