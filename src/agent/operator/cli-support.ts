// Shared by the `status`, `check` and `update-now` commands: the bus flag and error -> exit code.
import { AltError } from '../../common/errors.js';

/** Exit codes, shared by every alt-updatectl command (docs/usage/cli.md): 0 ok, 1 error, 2 usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** `--bus-address`, else DBUS_SYSTEM_BUS_ADDRESS, else null (the default system bus socket). */
export function busAddressFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string | null {
  if (flag !== undefined && flag !== '') return flag;
  const e = env.DBUS_SYSTEM_BUS_ADDRESS;
  return e !== undefined && e !== '' ? e : null;
}

/**
 * Maps a client failure to one stderr line and the exit code (always 1: the CLI's exit codes are
 * the same for every command; the message says whether the agent is down or the caller not root).
 */
export function describeFailure(err: unknown): { message: string; code: number } {
  if (err instanceof AltError && err.code === 'OPERATOR_DBUS_CLIENT' && err.kind === 'access_denied') {
    return { message: `${err.message} (run as root)`, code: EXIT.failed };
  }
  return { message: err instanceof Error ? err.message : String(err), code: EXIT.failed };
}
