// Shared by the `status`, `check` and `update-now` commands: the bus flag and error -> exit code.
import { AltError } from '../../common/errors.js';

/** Exit codes of the D-Bus backed commands (docs/usage/dbus-api.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, denied: 4 } as const;

/** `--bus-address`, else DBUS_SYSTEM_BUS_ADDRESS, else null (the default system bus socket). */
export function busAddressFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string | null {
  if (flag !== undefined && flag !== '') return flag;
  const e = env.DBUS_SYSTEM_BUS_ADDRESS;
  return e !== undefined && e !== '' ? e : null;
}

/** Maps a client failure to a message and exit code. */
export function describeFailure(err: unknown): { message: string; code: number } {
  if (err instanceof AltError && err.code === 'OPERATOR_DBUS_CLIENT') {
    switch (err.kind) {
      case 'no_bus':
      case 'not_running':
        return { message: err.message, code: EXIT.unreachable };
      case 'access_denied':
        return { message: `${err.message} (run as root)`, code: EXIT.denied };
      default:
        return { message: err.message, code: EXIT.failed };
    }
  }
  return { message: err instanceof Error ? err.message : String(err), code: EXIT.failed };
}
