// What a failed real-node wait prints about its node: the container's PID 1 as the host sees it, then
// what the units, the agent's journal, the processes and the sysroot say inside. Every command is
// bounded and none may throw: a diagnosis of a wedged node must still come back.
import type { RunResult } from './exec.js';
import { readIfExists, statusField } from './proc.js';

/** Runs a command inside the node (RealNode.exec). */
export type GuestExec = (cmd: readonly string[], opts?: { check?: boolean; timeoutMs?: number }) => Promise<RunResult>;

/** What {@link diagnoseNode} runs in the node: the units, their journal, the processes, the sysroot. */
const COMMANDS: readonly (readonly string[])[] = [
  ['systemctl', 'show', 'alt-updated', 'alt-ostreed', '-p', 'Id', '-p', 'ActiveState', '-p', 'SubState', '-p', 'MainPID', '-p', 'NRestarts', '-p', 'StatusText'],
  // The agent's whole boot as event ids, runs counted (`uniq -c`): what it went through, in a few lines.
  ['sh', '-c', "journalctl -b --no-pager -o cat -u alt-updated | grep -o 'event=[^ ]*' | uniq -c | tr -s ' \\n' ' '"],
  ['journalctl', '-b', '--no-pager', '-n', '60', '-u', 'alt-updated', '-u', 'alt-ostreed'],
  ['ps', '-eo', 'pid,ppid,stat,etimes,args', '--sort=pid'],
  ['ostree', 'admin', 'status'],
];

/**
 * The container's PID 1 as the host sees it: its command, state and kernel wait channel. A PID 1 in
 * `zap_pid_ns_processes` has exited and waits for a process of its namespace that nobody reaps.
 */
function hostView(leader: number | null): string {
  if (leader === null) return 'container PID 1: not running';
  const state = statusField(leader, 'State');
  if (state === null) return `container PID 1 (host pid ${leader}): gone`;
  return `container PID 1 (host pid ${leader}): ${statusField(leader, 'Name') ?? '?'}, ${state}, waiting in ${readIfExists(`/proc/${leader}/wchan`).trim() || '?'}`;
}

/** The diagnosis of the node whose container's PID 1 is `leader` (null: not running); never throws. */
export async function diagnoseNode(exec: GuestExec, leader: number | null): Promise<string> {
  const parts = [hostView(leader)];
  // Sequential: on a wedged node each one may take its whole timeout, and none should starve the others.
  for (const cmd of COMMANDS) {
    const out = await exec(cmd, { check: false, timeoutMs: 15_000 }).then(
      (r) => (r.stdout + r.stderr).trim(),
      (e: unknown) => String(e),
    );
    parts.push(`$ ${cmd.join(' ')}\n${out}`);
  }
  return parts.join('\n');
}
