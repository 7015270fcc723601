// Pure helpers of the demo (scripts/demo.mjs): the release policy it serves and the summary it prints.

/** The ref every demo node boots from. */
export const FLEET_DEMO_REF = 'altcos/x86_64/sisyphus';

/** Policy for alt-graphd: every release after the first is rolled out; the middle one is a barrier. */
export function releasePolicy(versions: readonly string[]): unknown {
  return {
    stream: 'sisyphus',
    releases: versions.slice(1).map((v, i) =>
      i === 0 && versions.length > 2
        ? { version: v, metadata: { barrier: { reason: 'demo: every host passes through this release' } } }
        : { version: v, metadata: { rollout: { start_percentage: 1.0 } } },
    ),
  };
}

/**
 * A required health check (a `/bin/sh` script) that fails while a fake-booted node runs `version`:
 * it reads the booted deployment from the fake boot's state (`<stateDir>/booted`, relative to
 * `sysrootPath`) and that deployment's os-release. This is how the demo and the fleet test make a
 * release "bad" without touching the release itself.
 */
export function badReleaseCheck(o: { stateDir: string; sysrootPath: string; version: string }): string {
  const q = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;
  return [
    '#!/bin/sh',
    `# Fails on ${o.version}: the service this node runs is broken there.`,
    `booted=$(cat ${q(`${o.stateDir}/booted`)})`,
    `if grep -qx ${q(`VERSION_ID=${o.version}`)} ${q(o.sysrootPath)}/"$booted"/usr/lib/os-release; then`,
    `  echo ${q(`service check failed on ${o.version}`)}`,
    '  exit 1',
    'fi',
    '',
  ].join('\n');
}

/** One timeline entry: ms since the demo start, node, agent event. */
export interface TimelineEntry {
  readonly t: number;
  readonly node: string;
  readonly event: string;
  readonly release: string | null;
}

/**
 * Reboot windows per node: from `update_finalizing` (the strategy allowed the reboot, i.e. the lock
 * was taken) to the next `steady_reported` after that reboot (the slot was given back).
 */
export function rebootIntervals(timeline: readonly TimelineEntry[]): { node: string; from: number; to: number | null }[] {
  const open = new Map<string, number>();
  const out: { node: string; from: number; to: number | null }[] = [];
  for (const e of [...timeline].sort((a, b) => a.t - b.t)) {
    if (e.event === 'update_finalizing' && !open.has(e.node)) open.set(e.node, e.t);
    if (e.event === 'steady_reported' && open.has(e.node)) {
      out.push({ node: e.node, from: open.get(e.node)!, to: e.t });
      open.delete(e.node);
    }
  }
  for (const [node, from] of open) out.push({ node, from, to: null });
  return out;
}

/** The largest number of intervals open at one instant (an open end counts as open forever). */
export function maxConcurrent(intervals: readonly { from: number; to: number | null }[]): number {
  const points: [number, number][] = [];
  for (const i of intervals) {
    points.push([i.from, 1]);
    if (i.to !== null) points.push([i.to, -1]);
  }
  // At equal times, count ends before starts: a slot released and taken in the same ms is not overlap.
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of points) {
    cur += d;
    max = Math.max(max, cur);
  }
  return max;
}

/**
 * The nodes that rolled back: a `health_rolled_back` event from their boot health run (logged by
 * `alt-updated-health`, whose records the demo files under `<node>/health`).
 */
export function rolledBackNodes(timeline: readonly TimelineEntry[]): string[] {
  const nodes = timeline.filter((e) => e.event === 'health_rolled_back').map((e) => e.node.replace(/\/health$/, ''));
  return [...new Set(nodes)].sort();
}

/** The `--json` summary. */
export interface DemoSummary {
  /** Nodes in the demo. */
  readonly nodes: number;
  /** Nodes that ended on the newest release. */
  readonly arrived: number;
  /** Most nodes between taking the lock and reporting steady again at one instant. */
  readonly max_concurrent_reboots: number;
  /** How many nodes rolled back (see {@link rolledBackNodes}). */
  readonly rolled_back: number;
  /** FleetLock groups that were halted at some point of the run (names, sorted). */
  readonly halted_groups: string[];
  /** The version every node ended on, in node order. */
  readonly final_versions: string[];
  /** Wall time of the run in seconds. */
  readonly duration_s: number;
  /** What the nodes boot and update: ostree commits, or signed OCI images through bootc. */
  readonly payload: 'ostree' | 'oci';
  /**
   * What a node is: `nspawn` (systemd-nspawn booting an ostree deployment, real systemd as PID 1) or
   * `fakeboot` (a private bus, a fake-booted sysroot, the daemons started by the demo).
   */
  readonly node_kind: NodeKind;
}

/** The two kinds of demo node (see {@link DemoSummary.node_kind}). */
export type NodeKind = 'nspawn' | 'fakeboot';

/** Builds the printed summary and the `--json` object. */
export function summarise(o: {
  nodes: readonly string[];
  timeline: readonly TimelineEntry[];
  newest: string;
  finals: readonly string[];
  reboots: readonly number[];
  durationMs: number;
  /** Groups seen halted during the run. @default [] */
  haltedGroups?: readonly string[];
  /** @default "ostree" */
  payload?: DemoSummary['payload'];
  nodeKind: NodeKind;
}): { json: DemoSummary; lines: string[] } {
  const intervals = rebootIntervals(o.timeline);
  const rolledBack = rolledBackNodes(o.timeline);
  const json: DemoSummary = {
    nodes: o.nodes.length,
    arrived: o.finals.filter((v) => v === o.newest).length,
    max_concurrent_reboots: maxConcurrent(intervals),
    rolled_back: rolledBack.length,
    halted_groups: [...new Set(o.haltedGroups ?? [])].sort(),
    final_versions: [...o.finals],
    duration_s: Math.round(o.durationMs / 100) / 10,
    payload: o.payload ?? 'ostree',
    node_kind: o.nodeKind,
  };
  const lines = ['== summary ==', 'node      booted            reboots  reboot windows (s, lock taken -> steady again)'];
  o.nodes.forEach((n, i) => {
    const w = intervals
      .filter((x) => x.node === n)
      .map((x) => `${(x.from / 1000).toFixed(1)}-${x.to === null ? '?' : (x.to / 1000).toFixed(1)}`)
      .join(', ');
    lines.push(`${n.padEnd(9)} ${String(o.finals[i]).padEnd(17)} ${String(o.reboots[i]).padEnd(8)} ${w}`);
  });
  lines.push(
    `arrived at ${o.newest}: ${json.arrived}/${json.nodes}; max concurrent reboots: ${json.max_concurrent_reboots}; ${json.duration_s} s; payload ${json.payload}; nodes ${json.node_kind}`,
  );
  if (rolledBack.length > 0 || json.halted_groups.length > 0) {
    lines.push(`rolled back: ${rolledBack.length === 0 ? 'none' : rolledBack.join(', ')}; groups halted: ${json.halted_groups.length === 0 ? 'none' : json.halted_groups.join(', ')}`);
  }
  return { json, lines };
}

/**
 * The one line a machine that cannot boot real nodes gets: `reason` is what
 * `realNodeUnavailable()` or `nspawnProbe()` (test/realnode/available.ts) said, minus the test
 * runner's "tests skipped" wording, then what to install.
 */
export function unavailableLine(reason: string): string {
  const why = reason.replace(/^real-node tests skipped: (they need [^;]*; )?/, '');
  return (
    `demo: cannot boot real nodes here (${why}); run it as root after \`bash scripts/setup.sh\` ` +
    '(or `apt-get install systemd-container debootstrap`), or add --fake-boot'
  );
}

/** One agent journal record, read back from a node's `MESSAGE` (`msg key=value ...`, src/common/logger.ts). */
export interface JournalMessage {
  /** The human part. */
  readonly msg: string;
  /** The `key=value` fields after it (quoted values unquoted). */
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * Splits a journal `MESSAGE` written by the agent's journal format into its message and fields,
 * reading `key=value` pairs from the end (a message may itself hold `=`). A value that is neither a
 * token without spaces nor a JSON string (an object with spaces) stops the split; `component` (the
 * first field), `event` and `release` are then still found anywhere in the line.
 */
export function parseJournalMessage(message: string): JournalMessage {
  const fields: Record<string, string> = {};
  let rest = message;
  for (;;) {
    const m = /\s([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest);
    if (m === null) break;
    const raw = m[2]!;
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        break;
      }
    }
    fields[m[1]!] = value;
    rest = rest.slice(0, m.index);
  }
  for (const key of ['component', 'event', 'release']) {
    if (fields[key] === undefined) {
      const m = new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(message);
      if (m !== null) {
        fields[key] = m[1]!;
        rest = rest.slice(0, Math.min(rest.length, m.index));
      }
    }
  }
  return { msg: rest.trim(), fields };
}
