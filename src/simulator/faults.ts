// Faults during a simulation (`--fault KIND@START+DURATION`): at virtual time START the simulator
// kills a server, DURATION later it starts it again (same port, same data dir or etcd member name).
// Each fault runs as a scheduler control action, while every node waits: it never lands in the middle
// of a request, and the killed server's request counters are read just before it dies.
import type { SimScheduler } from './scheduler.js';
import { SimulatorError } from './errors.js';
import type { World } from './world.js';

/** What a fault takes down. */
export type FaultKind = 'etcd-member' | 'fleetlockd' | 'graphd';

/** The fault kinds, as the flag spells them. */
export const FAULT_KINDS: readonly FaultKind[] = ['etcd-member', 'fleetlockd', 'graphd'];

/** One planned fault. */
export interface FaultSpec {
  readonly kind: FaultKind;
  /** Virtual seconds after the start when the server is killed. */
  readonly atSecs: number;
  /** Virtual seconds it stays down. */
  readonly forSecs: number;
}

/** What happened, for the summary (`faults` in the JSON). */
export interface FaultRecord {
  kind: FaultKind;
  /** Virtual seconds since the start. */
  at_s: number;
  /** Virtual seconds since the start when it was back (null: the run ended first). */
  restored_at_s: number | null;
  /** Which etcd member, for `etcd-member` (the leader at the time, when one answered). */
  member?: string;
  /** Pids before the kill and after the restart (a real kill: they differ). */
  pid_before: number | null;
  pid_after: number | null;
  /** How it was taken down. */
  how: string;
}

const UNIT_SECS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses a duration like `30m`, `90s`, `1h30m`, `2d` into seconds. */
export function parseDuration(text: string): number | null {
  if (!/^(\d+[smhd])+$/.test(text)) return null;
  let secs = 0;
  for (const m of text.matchAll(/(\d+)([smhd])/g)) secs += Number(m[1]) * UNIT_SECS[m[2]!]!;
  return Number.isSafeInteger(secs) ? secs : null;
}

/** Renders seconds the way {@link parseDuration} reads them (`1h30m`, `0s`). */
export function formatDuration(secs: number): string {
  if (secs === 0) return '0s';
  let out = '';
  let rest = secs;
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${u}`;
      rest %= n;
    }
  }
  return out;
}

/** Parses one `--fault` value, `KIND@START+DURATION`; throws `SIM_USAGE` naming the value. */
export function parseFault(text: string): FaultSpec {
  const bad = (why: string): never => {
    throw new SimulatorError('SIM_USAGE', `--fault ${JSON.stringify(text)}: ${why} (expected KIND@START+DURATION, e.g. graphd@20m+30m; kinds: ${FAULT_KINDS.join(', ')})`);
  };
  const m = /^([a-z-]+)@([^+]+)\+(.+)$/.exec(text);
  if (m === null) return bad('not KIND@START+DURATION');
  const kind = m[1] as FaultKind;
  if (!FAULT_KINDS.includes(kind)) return bad(`unknown kind ${JSON.stringify(m[1])}`);
  const atSecs = parseDuration(m[2]!);
  if (atSecs === null) return bad(`START ${JSON.stringify(m[2])} is not a duration like 30m, 90s, 1h30m`);
  const forSecs = parseDuration(m[3]!);
  if (forSecs === null || forSecs === 0) return bad(`DURATION ${JSON.stringify(m[3])} is not a duration > 0 like 10m`);
  return { kind, atSecs, forSecs };
}

/** Checks the faults fit the run: a lock-server fault needs a lock server, an etcd one an etcd store. */
export function checkFaults(faults: readonly FaultSpec[], o: { lockServer: boolean; etcd: boolean }): void {
  for (const f of faults) {
    const name = `${f.kind}@${formatDuration(f.atSecs)}+${formatDuration(f.forSecs)}`;
    if (f.kind === 'fleetlockd' && !o.lockServer) throw new SimulatorError('SIM_USAGE', `--fault ${name}: no alt-fleetlockd in this run (use --strategy fleet_lock)`);
    if (f.kind === 'etcd-member' && !o.etcd) throw new SimulatorError('SIM_USAGE', `--fault ${name}: no etcd in this run (use --store etcd)`);
  }
}

/**
 * Schedules `faults` on `sched` (times relative to monotonic `startMono`), recording each in
 * `records` as it happens. `tSecs()` is the virtual time since the start.
 */
export function scheduleFaults(sched: SimScheduler, world: World, faults: readonly FaultSpec[], startMono: number, tSecs: () => number, records: FaultRecord[]): void {
  for (const f of faults) {
    sched.at(startMono + f.atSecs * 1000, async () => {
      const rec: FaultRecord = { kind: f.kind, at_s: tSecs(), restored_at_s: null, pid_before: null, pid_after: null, how: '' };
      records.push(rec);
      let restore: () => Promise<void>;
      if (f.kind === 'etcd-member') {
        const etcd = world.etcd!;
        const leader = await etcd.leader();
        const member = leader ?? etcd.names[0]!;
        rec.member = member;
        rec.pid_before = etcd.pids(member).at(-1) ?? null;
        rec.how = `SIGKILL of etcd member ${member}${leader === null ? '' : ' (the leader)'}, restarted with the same name and data dir`;
        await etcd.kill(member);
        restore = async () => {
          await etcd.restart(member);
          rec.pid_after = etcd.pids(member).at(-1) ?? null;
        };
      } else {
        const server = f.kind === 'graphd' ? world.graphd : world.fleetlockd!;
        rec.pid_before = server.pids.at(-1) ?? null;
        rec.how = `SIGKILL of ${server.name}, restarted on the same port${f.kind === 'fleetlockd' ? ' with the same store' : ''}`;
        await world.bank(f.kind);
        await server.kill();
        restore = async () => {
          await server.start();
          rec.pid_after = server.pids.at(-1) ?? null;
        };
      }
      sched.at(startMono + (f.atSecs + f.forSecs) * 1000, async () => {
        await restore();
        rec.restored_at_s = tSecs();
      });
    });
  }
}
