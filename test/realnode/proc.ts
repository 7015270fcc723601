// Reading /proc for the real-node harness: processes come and go while it is read (nodes made in
// parallel run cp and ostree meanwhile), so a vanished file reads as empty, never as an error.
import { readFileSync } from 'node:fs';

/** The file's text, or '' when it is gone or unreadable. */
export function readIfExists(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

/** Field `name` of `/proc/PID/status` (e.g. State, NSpid), or null when the process is gone. */
export function statusField(pid: number, name: string): string | null {
  return new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(readIfExists(`/proc/${pid}/status`))?.[1]?.trim() ?? null;
}
