// Test cleanup scopes: every directory and process a test file makes goes away when the file ends,
// pass or fail, and whatever a crashed worker left goes when the run ends (vitest-setup.ts and
// vitest-global-setup.ts wire this into vitest). Two facts make that hold without every test
// cooperating: os.tmpdir() follows TMPDIR, which points into the file's scope directory, so each
// mkdtemp(join(tmpdir(), ...)) lands there; and every process started while the scope is open
// inherits ALT_TEST_SCOPE in its environment (also daemons that re-parented to PID 1), so a scan of
// /proc/*/environ finds them. Helpers additionally record their children (`trackProcess`), which
// covers a child started with an environment of its own and kills detached process groups.
// No vitest import: the helpers also run from dist/ in the demo and the benchmarks.
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Environment variable naming the open scope directory (inherited by every child: the marker). */
export const SCOPE_ENV = 'ALT_TEST_SCOPE';
/** Environment variable naming the per-run root (set by the global setup for the workers). */
export const RUN_ROOT_ENV = 'ALT_TEST_RUN_ROOT';
/** Name prefix of per-run roots in the temp dir (kept short: unix socket paths are at most 107 bytes). */
export const RUN_ROOT_PREFIX = 'altt-';

const PIDS_FILE = '.pids';
const OWNER_FILE = '.owner';
/** How long a process gets between SIGTERM and SIGKILL. */
const TERM_GRACE_MS = 3_000;

/** A process to end: its pid, its start time (guards against pid reuse) and whether to signal its group. */
interface Victim {
  readonly pid: number;
  readonly start: string;
  readonly group: boolean;
}

/** Field 22 (start time in clock ticks) of /proc/PID/stat, or null when the process is gone or a zombie. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return null;
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

const alive = (v: Victim): boolean => startTime(v.pid) === v.start;

/**
 * Records `child` in the open scope (no-op outside one), so the scope's end kills it if it is still
 * running; `group: true` for a child spawned `detached` (its own process group: the group is killed).
 */
export function trackProcess(child: ChildProcess, opts: { group?: boolean } = {}): void {
  const scope = process.env[SCOPE_ENV];
  if (!scope || child.pid === undefined) return;
  const start = startTime(child.pid);
  if (start === null) return;
  // Synchronous: the record must exist even if the test crashes right after the spawn.
  appendFileSync(join(scope, PIDS_FILE), `${child.pid} ${start} ${opts.group ? 1 : 0}\n`);
}

/** Processes whose environment's `name` (ALT_TEST_SCOPE) satisfies `match` (other users' are unreadable: skipped). */
function markedProcesses(match: (value: string) => boolean, name = SCOPE_ENV): Victim[] {
  const key = `${name}=`;
  const out: Victim[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!env.split('\0').some((e) => e.startsWith(key) && match(e.slice(key.length)))) continue;
    const start = startTime(pid);
    if (start !== null) out.push({ pid, start, group: false });
  }
  return out;
}

/** The processes recorded by `trackProcess` in `scopeDir`. */
async function recordedProcesses(scopeDir: string): Promise<Victim[]> {
  const text = await readFile(join(scopeDir, PIDS_FILE), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, start, group] = line.split(' ');
      return { pid: Number(pid), start: start ?? '', group: group === '1' };
    });
}

function signal(v: Victim, sig: NodeJS.Signals): void {
  for (const target of v.group ? [-v.pid, v.pid] : [v.pid]) {
    try {
      process.kill(target, sig);
    } catch {
      // Already gone (or the group is empty).
    }
  }
}

/** Resolves once none of `victims` runs any more, or `ms` passed; returns those still running. */
async function waitGone(victims: readonly Victim[], ms: number): Promise<Victim[]> {
  const deadline = Date.now() + ms;
  let left = victims.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(alive);
  }
  return left;
}

/** `PID (command line)` of a running process, for the leak report. */
function describe(pid: number): string {
  let cmd = '?';
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 100);
  } catch {
    // gone meanwhile
  }
  return `${pid} (${cmd})`;
}

/**
 * Ends `victims`: SIGTERM, then SIGKILL for whatever still runs after TERM_GRACE_MS (a daemon that
 * ignores or is slow on SIGTERM). Resolves to `PID (command line)` of each one that was still running.
 */
export async function terminate(victims: readonly Victim[]): Promise<string[]> {
  const running = victims.filter((v, i) => alive(v) && victims.findIndex((w) => w.pid === v.pid) === i);
  if (running.length === 0) return [];
  const described = running.map((v) => describe(v.pid));
  for (const v of running) signal(v, 'SIGTERM');
  const stubborn = await waitGone(running, TERM_GRACE_MS);
  for (const v of stubborn) signal(v, 'SIGKILL');
  await waitGone(stubborn, 2_000);
  return described;
}


/**
 * Opens a scope for one test file under `runRoot`: a fresh directory that TMPDIR now points at, and
 * the ALT_TEST_SCOPE marker every child inherits. Returns the directory.
 */
export async function openScope(runRoot: string): Promise<string> {
  await mkdir(runRoot, { recursive: true });
  const dir = await mkdtemp(join(runRoot, 's'));
  // Like /tmp: tests run some clients as other users, which must reach sockets and write temp files here.
  await chmod(dir, 0o1777);
  process.env.TMPDIR = dir;
  process.env[SCOPE_ENV] = dir;
  return dir;
}

/**
 * Closes the scope opened by {@link openScope}: TMPDIR back to `previousTmp`, every process of the
 * scope (marked or recorded) ended, the directory removed. Resolves to those that were still running.
 */
export async function closeScope(dir: string, previousTmp: string | undefined): Promise<string[]> {
  if (process.env.ALT_TEST_SCOPE === dir) delete process.env.ALT_TEST_SCOPE; // SCOPE_ENV
  if (previousTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmp;
  const pids = await terminate([...(await recordedProcesses(dir)), ...markedProcesses((s) => s === dir)]);
  // Not a failure of the file's tests (e.g. a non-root run meeting a dir a test made unreadable):
  // say so; the run's teardown tries again.
  await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch((err: unknown) => console.warn(`test cleanup: cannot remove ${dir}: ${String(err)}`));
  return pids;
}

/**
 * Creates the per-run root in `base` (default: the temp dir), recording its owner so that a later
 * run can tell a root whose vitest was killed (see {@link sweepStaleRuns}).
 */
export async function createRunRoot(base: string = tmpdir()): Promise<string> {
  const root = await mkdtemp(join(base, RUN_ROOT_PREFIX));
  await chmod(root, 0o755); // other users' test clients traverse it (see openScope)
  await writeFile(join(root, OWNER_FILE), `${process.pid} ${startTime(process.pid) ?? ''}\n`);
  return root;
}

/**
 * Ends every process of every scope under `runRoot` (recorded, or marked with one of them), then
 * removes the root. With `workers` (only once the run's vitest is gone) also whatever still has the
 * run's RUN_ROOT_ENV: workers vitest left behind when it crashed.
 */
export async function sweepRun(runRoot: string, opts: { workers?: boolean } = {}): Promise<string[]> {
  const scopes = await readdir(runRoot).catch(() => [] as string[]);
  const recorded = (await Promise.all(scopes.map((s) => recordedProcesses(join(runRoot, s))))).flat();
  const marked = markedProcesses((s) => s.startsWith(`${runRoot}/`));
  const workers = opts.workers ? markedProcesses((r) => r === runRoot, RUN_ROOT_ENV) : [];
  const pids = await terminate([...recorded, ...marked, ...workers]);
  await rm(runRoot, { recursive: true, force: true, maxRetries: 3 });
  return pids;
}

/** Sweeps run roots in `base` whose owning vitest no longer runs (it was killed before its teardown). */
export async function sweepStaleRuns(base: string = tmpdir()): Promise<void> {
  const names = (await readdir(base).catch(() => [] as string[])).filter((n) => n.startsWith(RUN_ROOT_PREFIX));
  for (const name of names) {
    const root = join(base, name);
    const owner = await readFile(join(root, OWNER_FILE), 'utf8').catch(() => null);
    if (owner === null) continue; // not ours, or still being created
    const [pid, start] = owner.trim().split(' ');
    if (alive({ pid: Number(pid), start: start ?? '', group: false })) continue;
    await sweepRun(root, { workers: true });
  }
}
