// What every real-node test file (test/e2e) sets up and reads the same way: the image step of its
// beforeAll, the agent's journal and event ids, the base agent config, the debug-log drop-in and the
// closing timing line. The scenarios themselves (releases, strategies, waits) stay in their files.
import { tmpdir } from 'node:os';
import { afterEach } from 'vitest';
import { nspawnProbe } from './available.js';
import { ensureImage, type RealNodeImage } from './image.js';
import type { RealNode } from './node.js';

/** One record of `journalctl -o json`: the fields the e2e files read. */
export interface JournalRecord {
  readonly MESSAGE: string;
  readonly PRIORITY: string;
  /** Microseconds since the epoch, as a decimal string. */
  readonly __REALTIME_TIMESTAMP: string;
  readonly _SYSTEMD_UNIT?: string;
  readonly _UID?: string;
  readonly SESSION_ID?: string;
  /** On systemd's own records about a unit: the unit, and for a job's end its type and result. */
  readonly UNIT?: string;
  readonly JOB_TYPE?: string;
  readonly JOB_RESULT?: string;
}

/** The agent's structured event id in a log line (`event=update_staged`). */
const EVENT = /\bevent=(\S+)/;

/** The cached (or freshly built) real-node image, with one line saying which and how long it took. */
export async function loadImage(): Promise<RealNodeImage> {
  const image = await ensureImage(tmpdir());
  console.info(`real-node image: ${image.built.length > 0 ? `built ${image.built.join(' + ')}` : 'from the cache'} in ${image.buildSecs.toFixed(1)} s`);
  return image;
}

/** Null when a container of `image` can start here; else why not, already printed: the tests skip. */
export async function probeBoot(image: RealNodeImage): Promise<string | null> {
  const cannotBoot = await nspawnProbe(image);
  if (cannotBoot !== null) console.warn(cannotBoot);
  return cannotBoot;
}

/** The node's journal as records: `journalctl --no-pager -o json ARGS` inside it. */
export async function readJournal(node: RealNode, args: readonly string[], opts?: { check?: boolean }): Promise<JournalRecord[]> {
  const { stdout } = await node.exec(['journalctl', '--no-pager', '-o', 'json', ...args], opts);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalRecord);
}

/** The record's event id, or '' for a record without one. */
export const eventOf = (r: Pick<JournalRecord, 'MESSAGE'>): string => EVENT.exec(r.MESSAGE)?.[1] ?? '';

/** The event ids of `records`, in order, skipping records without one. */
export const events = (records: readonly Pick<JournalRecord, 'MESSAGE'>[]): string[] => records.map(eventOf).filter(Boolean);

/** The agent's event ids of boot `boot` (0: this one, -1: the previous one), in order, from `-o cat`. */
export async function agentEvents(node: RealNode, boot = '0'): Promise<string[]> {
  const { stdout } = await node.exec(['journalctl', '--no-pager', '-b', boot, '-u', 'alt-updated', '-o', 'cat']);
  return stdout.split('\n').map((l) => EVENT.exec(l)?.[1] ?? '').filter(Boolean);
}

/**
 * The agent's config.toml: the graph at `graphdUrl`, steady and staged checks every 2 s (the defaults
 * are minutes), and `strategy`. `timing` adds lines to `[agent.timing]`; `rest` follows `[updates]`.
 */
export function agentConfig(graphdUrl: string, strategy: string, more: { timing?: readonly string[]; rest?: readonly string[] } = {}): string {
  return [
    '[cincinnati]',
    `base_url = "${graphdUrl}"`,
    '[agent.timing]',
    'steady_interval_secs = 2',
    'staged_interval_secs = 2',
    ...(more.timing ?? []),
    '[updates]',
    `strategy = "${strategy}"`,
    ...(more.rest ?? []),
    '',
  ].join('\n');
}

/** A `unitDropIns` for the agent logging debug records too (no_update, state_changed: PRIORITY 7). */
export const DEBUG_LOG_DROPIN: Readonly<Record<string, string>> = { 'alt-updated.service': '[Service]\nEnvironment=ALT_UPDATED_LOG_LEVEL=debug\n' };

/** `to - from` in seconds with one decimal and the unit, '-' while `to` is unknown. */
export const secs = (from: number, to: number | null): string => (to === null ? '-' : `${((to - from) / 1000).toFixed(1)} s`);

/** Prints how long the file took since `started` and, per boot of `node`, when it ran and how it ended. */
export function logFileSummary(started: number, node: RealNode | undefined): void {
  const boots = node?.boots.map((b) => `boot ${b.index}: running after ${secs(b.startedAt, b.readyAt)}, up ${secs(b.startedAt, b.endedAt)} (exit ${b.exitCode ?? '-'})`);
  console.info(`real-node test file: ${secs(started, Date.now())}; ${boots?.join('; ') ?? 'no node'}`);
}

/**
 * After each failed test, a timeout included, prints what the nodes are doing ({@link RealNode.diagnose})
 * and their consoles' last lines. vitest abandons a timed-out test's body, so the diagnostics its own
 * waits would have thrown never print; this is where a hang on a busy CI machine says why.
 */
export function diagnoseOnFailure(nodes: () => readonly (RealNode | undefined)[]): void {
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const node of nodes()) {
      if (node === undefined) continue;
      const text = await node.diagnose().catch((e: unknown) => String(e));
      console.info(`${node.name} after the failed test "${ctx.task.name}":\n${text}\n--- console ---\n${node.consoleTail(20)}`);
    }
  }, 180_000);
}
