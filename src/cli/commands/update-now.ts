// alt-updatectl update-now [--bus-address ADDR]: finalizes the staged update now, skipping the
// strategy and the session wait for that one tick (UpdateNow; root only). The call returns after
// that tick: success means finalized (the backend reboots); a tick that could not finalize fails
// with AGENT_UPDATE_NOW_FAILED and its reason, and the request is gone.
import { runAgentCall } from '../agent-call.js';
import type { CliIo } from '../command.js';

/** Calls the agent over D-Bus; prints one line and exits 0 when the update was finalized. */
export function run(argv: string[], io: CliIo): Promise<number> {
  return runAgentCall(argv, io, {
    name: 'update-now',
    usage: 'usage: alt-updatectl update-now [--bus-address ADDR]',
    call: async (client) => {
      await client.updateNow();
      return 'staged update finalized: the host reboots now';
    },
  });
}
