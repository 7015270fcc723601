// One real node (systemd-nspawn, real systemd, journald, logind; test/realnode/) with the periodic
// strategy and one weekly maintenance window computed from the real clock: closed while the agent
// stages the release, opening a minute or two later. The node must hold the staged release (no
// reboot, the strategy denying tick after tick, StatusText saying why) until the window opens, and
// then reboot exactly once into it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/graphd.js';
import { realNodeUnavailable } from '../realnode/available.js';
import { type RealNodeImage } from '../realnode/image.js';
import type { RealNode } from '../realnode/node.js';
import { startOneNode, type OneNodeWorld } from '../realnode/one-node.js';
import { agentConfig, DEBUG_LOG_DROPIN, diagnoseOnFailure, eventOf, type JournalRecord, loadImage, logFileSummary, probeBoot, readJournal } from '../realnode/scenario.js';

const [V0, V1] = ['20261101.0.0', '20261115.0.0'];
/** The least time from writing the node's config to the window opening: boot, check, pull, stage and a few denied ticks (8-16 s measured) with headroom for a loaded machine. */
const MIN_LEAD_MS = 60_000;
const MINUTE_MS = 60_000;
const WEEK_MINUTES = 7 * 1440;

/** A weekly window (UTC) opening at the first whole minute at least {@link MIN_LEAD_MS} from `nowMs`. */
interface TestWindow {
  readonly startMs: number;
  readonly day: string;
  readonly startTime: string;
  readonly lengthMinutes: number;
}

/**
 * The window for a node configured at `nowMs`. 30 minutes long, crossing midnight if it must (the
 * calendar supports that), but cut short before the week's end (Monday 00:00 UTC), so this test does
 * not also depend on a window split across the week boundary.
 */
function windowFrom(nowMs: number): TestWindow {
  const startMs = Math.ceil((nowMs + MIN_LEAD_MS) / MINUTE_MS) * MINUTE_MS;
  const d = new Date(startMs);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0, as the calendar counts
  const minuteOfWeek = weekday * 1440 + d.getUTCHours() * 60 + d.getUTCMinutes();
  // The end minute is inclusive: `length` covers start .. start + length, so stop one short of the week's end.
  const lengthMinutes = Math.max(1, Math.min(30, WEEK_MINUTES - minuteOfWeek - 1));
  const pad = (n: number): string => String(n).padStart(2, '0');
  return {
    startMs,
    day: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][weekday]!,
    startTime: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`,
    lengthMinutes,
  };
}

// Reads the agent's metrics socket from inside the node (the image has node, not socat or python).
const READ_METRICS = "const s=require('net').connect('/run/alt-updated/public/metrics.promsock');let d='';s.on('data',(c)=>{d+=c});s.on('end',()=>process.stdout.write(d))";

const unavailable = await realNodeUnavailable();
if (unavailable !== null) console.warn(unavailable);

describe.skipIf(unavailable !== null)('real node: periodic strategy, a window closed while staging that opens later', () => {
  let image: RealNodeImage;
  let world: OneNodeWorld | undefined;
  let node: RealNode | undefined;
  let win: TestWindow;
  let cannotBoot: string | null = null;
  const started = Date.now();

  const journal = (args: readonly string[]): Promise<JournalRecord[]> => readJournal(node!, ['-u', 'alt-updated', ...args]);
  const events = async (boot: string): Promise<string[]> => (await journal(['-b', boot])).map(eventOf).filter(Boolean);
  const deniedTicks = async (): Promise<number> => {
    const { stdout } = await node!.exec(['node', '-e', READ_METRICS], { check: false, timeoutMs: 20_000 });
    return Number(/^alt_updated_updates_strategy_can_finalize_responses_total\{response="deny"\} (\d+)$/m.exec(stdout)?.[1] ?? 0);
  };

  beforeAll(async () => {
    image = await loadImage();
    cannotBoot = await probeBoot(image);
    if (cannotBoot !== null) return;
    world = await startOneNode(image, {
      releases: [[V1, '2026-11-15 00:00:00 +0000']],
      config: (graphdUrl) => {
        // Computed last, right before the node is made, so the image build does not eat the lead.
        win = windowFrom(Date.now());
        console.info(`maintenance window: ${win.day} ${win.startTime} UTC + ${win.lengthMinutes} min (opens ${new Date(win.startMs).toISOString()})`);
        return agentConfig(graphdUrl, 'periodic', {
          rest: ['[updates.periodic]', 'time_zone = "UTC"', '[[updates.periodic.window]]', `days = [ "${win.day}" ]`, `start_time = "${win.startTime}"`, `length_minutes = ${win.lengthMinutes}`],
        });
      },
      unitDropIns: DEBUG_LOG_DROPIN,
    });
    node = world.node;
  }, 600_000);

  diagnoseOnFailure(() => [node]);

  afterAll(async () => {
    await world?.close();
    logFileSummary(started, node);
  }, 60_000);

  it('stages the release while the window is closed and holds the reboot, tick after tick', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = node!;
    await n.waitBooted(1, 120_000);
    expect(await n.bootedVersion()).toBe(V0);
    const opens = new Date(win.startMs).toISOString();
    const tooLate = `the window opened (${opens}) before the node had staged and been denied: raise MIN_LEAD_MS`;
    // Waits for `cond` before the window opens; a reboot meanwhile is the failure this file is about.
    // A command failing in the node (it may be shutting down for that reboot) is retried, and named.
    const whileClosed = async (what: string, cond: () => Promise<boolean>): Promise<void> => {
      let lastErr = '';
      const asked = async (): Promise<boolean> => {
        if (n.boots.length > 1) throw new Error(`${n.name} rebooted while the window was closed (it opens ${opens})`);
        return cond().catch((err: unknown) => {
          lastErr = String(err);
          return false;
        });
      };
      await waitFor(what, asked, Math.max(win.startMs - Date.now(), 1_000)).catch((err: unknown) => {
        throw n.boots.length === 1 ? new Error(`${tooLate}\n${String(err)}${lastErr && `; last error in the node: ${lastErr}`}`) : err;
      });
    };
    await whileClosed('the release staged', async () => (await events('0')).includes('update_staged'));
    // Three answers "no" from the strategy: the agent keeps ticking (every 2 s) and keeps holding.
    await whileClosed('three denied ticks while the window is closed', async () => (await deniedTicks()) >= 3);
    // Everything below was seen while closed; the window has not opened under the checks.
    const seen = await events('0');
    const status = (await n.exec(['systemctl', 'show', 'alt-updated', '-p', 'StatusText'])).stdout;
    const check = (await n.exec(['alt-updatectl', 'window', 'check', '--json'])).stdout;
    expect(Date.now(), tooLate).toBeLessThan(win.startMs);
    expect(n.boots.length).toBe(1);
    expect(seen).toContain('finalization_denied');
    expect(seen).not.toContain('update_finalizing');
    expect(status).toMatch(new RegExp(`^StatusText=update staged: ${V1.replace(/\./g, '\\.')}; reboot pending due to update strategy$`, 'm'));
    expect(JSON.parse(check)).toMatchObject({ in_window: false, next_window_start: new Date(win.startMs).toISOString(), time_zone: 'UTC' });
    const init = (await journal(['-b', '0'])).find((r) => eventOf(r) === 'agent_initialized')?.MESSAGE ?? '';
    expect(init).toContain(`next window at ${Number(win.startTime.slice(0, 2))}:${win.startTime.slice(3)} on ${win.day} (UTC)`);
  }, 300_000);

  it('reboots exactly once into the release when the window opens', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = node!;
    await n.waitBooted(2, Math.max(win.startMs - Date.now(), 0) + 180_000);
    expect(n.boots[1]!.startedAt).toBeGreaterThanOrEqual(win.startMs);
    expect(await n.bootedVersion()).toBe(V1);
    // The previous boot finalized only once the window was open (journal time, microseconds).
    const prev = await journal(['-b', '-1']);
    const finalizing = prev.filter((r) => eventOf(r) === 'update_finalizing');
    expect(finalizing).toHaveLength(1);
    expect(Number(finalizing[0]!.__REALTIME_TIMESTAMP) / 1000).toBeGreaterThanOrEqual(win.startMs);
    expect(prev.map(eventOf).filter((e) => e === 'finalization_denied')).toHaveLength(1);
    // Settled: three checks on the new release that found nothing, and still the second boot.
    await waitFor('three checks on the new release', async () => (await events('0')).filter((e) => e === 'no_update').length >= 3, 120_000);
    expect(n.boots.map((b) => b.exitCode)).toEqual([133, null]);
  }, 480_000);
});
