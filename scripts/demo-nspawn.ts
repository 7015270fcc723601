// The demo on real nodes (`npm run demo`, the default; scripts/demo.mjs parses the flags): each node
// is a systemd-nspawn container booting an ostree deployment of the cached real-node image
// (test/realnode/), where real systemd starts alt-updated.service, the bus activates alt-ostreed,
// the agent stages through the real units and reboots through the real
// ostree-finalize-staged.service. alt-graphd, the release repo and (fleet_lock) alt-fleetlockd with
// its embedded store listen on the nodes' bridge. The timeline comes from each node's persistent
// journal, read from the host (`journalctl -D`), so a node's records survive its reboots and carry
// journald's own timestamps. With `--payload oci` (ALT Atomic) the releases are signed images in a
// real registry on the bridge and the nodes boot from the first one (scripts/demo-nspawn-sources.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeFixtureSigningKey } from '../test/helpers/signing.js';
import { spawnServer, type Spawned } from '../test/integration/fleetlock/spawn.js';
import { nspawnProbe, realNodeUnavailable } from '../test/realnode/available.js';
import { run } from '../test/realnode/exec.js';
import { BASE_VERSION, CACHE_DIR, REALNODE_OSNAME, ensureImage } from '../test/realnode/image.js';
import { createNetwork, type RealNodeNetwork } from '../test/realnode/network.js';
import type { RealNode } from '../test/realnode/node.js';
import { parseJournalMessage, summarise, unavailableLine, type DemoSummary, type TimelineEntry } from './demo-lib.js';
import { ociSource, ostreeSource, type DemoSource } from './demo-nspawn-sources.js';

/** What `npm run demo` asks of the real-node run. */
export interface NspawnDemoOptions {
  readonly nodes: number;
  readonly strategy: 'immediate' | 'fleet_lock' | 'periodic';
  readonly slots: number;
  /** `ostree` (a release repo) or `oci` (ALT Atomic: signed images in a registry, nodes booted from one). @default "ostree" */
  readonly payload?: 'ostree' | 'oci';
  /** Seconds for every node to arrive, counted once the nodes have booted. */
  readonly timeoutSecs: number;
  /** Print only the JSON summary. */
  readonly json: boolean;
}

/** Where the demo writes, and the probe that says whether this machine can boot real nodes. */
export interface NspawnDemoIo {
  /** One line of the timeline or summary (stdout). */
  out(line: string): void;
  /** One line for the operator (stderr). */
  err(line: string): void;
  /** Null when real nodes can run here, else why not. @default realNodeUnavailable */
  readonly probe?: () => Promise<string | null>;
}

/** The releases: the image's first (booted), a barrier, the newest. */
const VERSIONS = [BASE_VERSION, '20261115.0.0', '20261122.0.0'] as const;
const NEWEST = VERSIONS[2];

/** The agent's drop-in on every node: the demo's graph, strategy and short intervals. */
function agentToml(graphUrl: string, o: NspawnDemoOptions, fleetUrl: string | null): string {
  return [
    '[cincinnati]',
    `base_url = "${graphUrl}"`,
    '[agent.timing]',
    'steady_interval_secs = 2',
    'staged_interval_secs = 2',
    '[updates]',
    `strategy = "${o.strategy}"`,
    ...(fleetUrl !== null ? ['[updates.fleet_lock]', `base_url = "${fleetUrl}"`] : []),
    ...(o.strategy === 'periodic'
      ? ['[[updates.periodic.window]]', 'days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]', 'start_time = "00:00"', 'length_minutes = 1440']
      : []),
    '',
  ].join('\n');
}

/** One record of `journalctl -o json`, the fields the demo reads. */
interface JournalRecord {
  readonly MESSAGE?: string;
  readonly PRIORITY?: string;
  readonly _SYSTEMD_UNIT?: string;
  readonly __REALTIME_TIMESTAMP: string;
  readonly __CURSOR: string;
}

/** Reads a node's new journal records of the agent and the health unit, from the host. */
function journalTail(node: RealNode): () => Promise<JournalRecord[]> {
  const dir = join(node.sysroot, 'ostree/deploy', REALNODE_OSNAME, 'var/log/journal');
  let cursor: string | null = null;
  return async () => {
    const args = ['-D', dir, '--no-pager', '-o', 'json', '-u', 'alt-updated.service', '-u', 'alt-updated-health.service'];
    if (cursor !== null) args.push(`--after-cursor=${cursor}`);
    // Before the first boot's flush the journal is not there yet: no records, not an error.
    const r = await run('journalctl', args, { check: false, timeoutMs: 20_000 });
    const recs = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as JournalRecord);
    cursor = recs.at(-1)?.__CURSOR ?? cursor;
    return recs;
  };
}

/**
 * Runs the demo on real nodes; resolves with the exit code (0: every node arrived, and with
 * fleet_lock never more than `slots` between lock and steady; 130: interrupted). A machine that
 * cannot boot real nodes gets one line on `err` and exit code 1, before anything is built.
 */
export async function runNspawnDemo(o: NspawnDemoOptions, io: NspawnDemoIo): Promise<number> {
  const cannot = await (io.probe ?? realNodeUnavailable)();
  if (cannot !== null) {
    io.err(unavailableLine(cannot));
    return 1;
  }
  const t0 = Date.now();
  const stamp = (at = Date.now()): string => `${((at - t0) / 1000).toFixed(1).padStart(6)}s`;
  const say = (line: string): void => {
    if (!o.json) io.out(line);
  };
  const payload = o.payload ?? 'ostree';
  const scratch = await mkdtemp(join(tmpdir(), 'altdemo-'));
  // Every temp dir the harness makes (mkdtemp in os.tmpdir(): release repo, node copies, alt-graphd's
  // cache) lands in the scratch dir, removed at the end: outside a test there is no scope to sweep them.
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
  let network: RealNodeNetwork | null = null;
  let source: DemoSource | null = null;
  let fleetlockd: Spawned | null = null;
  const nodes: RealNode[] = [];
  // Ctrl-C once: stop waiting, power the nodes off and remove them (a node left running would hold
  // its netns and sysroot copy until the next run's sweep); twice: quit at once.
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    io.err('demo: stopping the nodes (again to quit at once)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Minutes of silence on a first run otherwise: say what is happening before it happens.
    say(`${stamp()} node image: checking the cache in ${CACHE_DIR} (a first run builds it: debootstrap and ostree, minutes)`);
    const image = await ensureImage(scratch);
    const how = image.built.length > 0 ? `built (${image.built.join(' + ')})` : 'from the cache';
    say(`${stamp()} node image ${how} in ${image.buildSecs.toFixed(1)} s`);
    const probe = await nspawnProbe(image);
    if (probe !== null) {
      io.err(unavailableLine(probe));
      return 1;
    }
    network = await createNetwork();
    if (payload === 'oci') say(`${stamp()} OCI images of the node tree: a cached base layer (a first run builds it: a minute) and one small layer per version`);
    source = await (payload === 'oci' ? ociSource : ostreeSource)(image, network, VERSIONS);
    say(`${stamp()} ${source.intro}`);
    let fleetUrl: string | null = null;
    if (o.strategy === 'fleet_lock') {
      const state = await mkdtemp(join(scratch, 'alt-fleetlockd-'));
      fleetlockd = await spawnServer(['--listen', `${network.hostAddress}:0`, '--group', `default=${o.slots}`, '--state-dir', state]);
      fleetUrl = fleetlockd.url.endsWith('/') ? fleetlockd.url : `${fleetlockd.url}/`;
      say(`${stamp()} alt-fleetlockd at ${fleetUrl} (group default, ${o.slots} slot(s), embedded store)`);
    }
    const toml = agentToml(source.graphUrl, o, fleetUrl);
    // Debug records too: `no_update` (debug) on the newest release says a node has arrived.
    const dropIns = { 'alt-updated.service': '[Service]\nEnvironment=ALT_UPDATED_LOG_LEVEL=debug\n' };
    for (let i = 1; i <= o.nodes; i++) nodes.push(await source.createNode(i, toml, dropIns));
    await Promise.all(nodes.map((n) => n.start()));
    await Promise.all(nodes.map((n) => n.waitBooted(1, 180_000)));
    if (interrupted) return 130;
    const booted = payload === 'oci' ? `image ${VERSIONS[0]} (systemd-nspawn, real systemd, the bootc stand-in at /usr/bin/bootc)` : `${VERSIONS[0]} (systemd-nspawn, real systemd)`;
    say(`${stamp()} ${o.nodes} node(s) booted ${booted}; ${source.publishing}`);
    await source.publish();

    const timeline: TimelineEntry[] = [];
    const tails = new Map(nodes.map((n) => [n.name, journalTail(n)]));
    const seenBoots = new Map(nodes.map((n) => [n.name, 1]));
    const arrivedAt = new Map<string, number>(); // last no_update on the newest release, journal time
    const deadline = Date.now() + o.timeoutSecs * 1000;
    const done = async (n: RealNode): Promise<boolean> => {
      const boot = n.boots.at(-1);
      const at = arrivedAt.get(n.name);
      return boot !== undefined && at !== undefined && at >= boot.startedAt && (await n.bootedVersion().catch(() => '')) === NEWEST;
    };
    let ok = false;
    while (Date.now() < deadline && !interrupted) {
      // This poll's lines of every node, printed in journal-time order (the nodes are read in turn).
      const lines: { at: number; line: string }[] = [];
      for (const n of nodes) {
        for (const rec of await tails.get(n.name)!()) {
          // `-u` also matches systemd's own lines about the units (Starting..., cgroup warnings): skip them.
          if (rec._SYSTEMD_UNIT !== 'alt-updated.service' && rec._SYSTEMD_UNIT !== 'alt-updated-health.service') continue;
          const at = Math.floor(Number(rec.__REALTIME_TIMESTAMP) / 1000);
          const who = rec._SYSTEMD_UNIT === 'alt-updated-health.service' ? `${n.name}/health` : n.name;
          const { msg, fields } = parseJournalMessage(rec.MESSAGE ?? '');
          if (fields.event !== undefined) timeline.push({ t: at - t0, node: who, event: fields.event, release: fields.release ?? null });
          if (fields.event === 'no_update') arrivedAt.set(n.name, at);
          if (Number(rec.PRIORITY ?? '6') <= 6 && fields.component !== 'ostree.client') lines.push({ at, line: `${stamp(at)} [${who}] ${msg}` });
        }
        // A new boot is a reboot; it counts once its root is there to read the version from.
        const boot = n.boots.at(-1);
        if (boot !== undefined && boot.index > seenBoots.get(n.name)! && boot.exitCode === null) {
          const version = await n.bootedVersion().catch(() => null);
          if (version !== null) {
            seenBoots.set(n.name, boot.index);
            timeline.push({ t: boot.startedAt - t0, node: n.name, event: 'rebooted', release: version });
            lines.push({ at: boot.startedAt, line: `${stamp(boot.startedAt)} [${n.name}] --- rebooted into ${version} ---` });
          }
        }
      }
      for (const l of lines.sort((a, b) => a.at - b.at)) say(l.line);
      const did = await source.poll(nodes, timeline);
      if (did !== null) say(`${stamp()} ${did}`);
      if ((await Promise.all(nodes.map(done))).every(Boolean)) {
        ok = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    if (!ok) {
      if (interrupted) return 130;
      io.err(`demo: not every node arrived within ${o.timeoutSecs} s`);
      for (const n of nodes) if (!(await done(n))) io.err(`--- ${n.name} ---\n${await n.diagnose().catch((e: unknown) => String(e))}`);
    }
    const finals = await Promise.all(nodes.map((n) => n.bootedVersion().catch(() => 'unknown')));
    const summary = summarise({
      nodes: nodes.map((n) => n.name),
      timeline,
      newest: NEWEST,
      finals,
      reboots: nodes.map((n) => n.boots.length - 1),
      durationMs: Date.now() - t0,
      payload,
      nodeKind: 'nspawn',
    });
    if (o.json) io.out(JSON.stringify(summary.json));
    else for (const line of ['', ...summary.lines]) io.out(line);
    return failed(summary.json, o, ok) ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // A clean poweroff of every node at once (each gets nspawn's SIGTERM grace), then the servers.
    await Promise.all(nodes.map((n) => n.destroy()));
    await fleetlockd?.stop('SIGTERM');
    await source?.close();
    await network?.destroy();
    await closeFixtureSigningKey();
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Whether the run failed: a node did not arrive, or fleet_lock let more than `slots` reboot at once. */
function failed(s: DemoSummary, o: NspawnDemoOptions, ok: boolean): boolean {
  return !ok || s.arrived !== o.nodes || (o.strategy === 'fleet_lock' && s.max_concurrent_reboots > o.slots);
}
