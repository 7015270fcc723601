// alt-updatectl status [--json] [--bus-address ADDR] [--root DIR]: the agent's D-Bus properties,
// then the boot health record (last verdict, failed checks with their output tails, failed releases).
import { join } from 'node:path';
import { statusJson, statusText } from '../../agent/operator/status-format.js';
import { errorChain } from '../../common/errors.js';
import { loadSettings } from '../../config/load.js';
import type { HealthRecord } from '../../health/record.js';
import { healthStatusJson, healthStatusText } from '../../health/render.js';
import { fileHealthStore, RECORD_FILE } from '../../health/store.js';
import { runAgentCall } from '../agent-call.js';
import type { CliIo } from '../command.js';

/** The health record under `root` (its state directory from the configuration), or why it cannot be read. */
async function readHealth(root: string): Promise<{ record: HealthRecord | null; error: string | null }> {
  try {
    const { settings } = await loadSettings({ root });
    if (!settings.health.enabled) return { record: null, error: null };
    return { record: await fileHealthStore(join(root, settings.health.stateDir, RECORD_FILE)).read(), error: null };
  } catch (err: unknown) {
    return { record: null, error: errorChain(err).join(': ') };
  }
}

/** Prints the agent state read over D-Bus and the health record; no privileges needed. */
export function run(argv: string[], io: CliIo): Promise<number> {
  return runAgentCall(argv, io, {
    name: 'status',
    usage: 'usage: alt-updatectl status [--json] [--bus-address ADDR] [--root DIR]',
    json: true,
    root: true,
    call: async (client, { json, root }) => {
      const snap = await client.snapshot();
      const health = await readHealth(root);
      if (json) return JSON.stringify({ ...statusJson(snap), health: health.record === null ? null : healthStatusJson(health.record), health_error: health.error });
      // The record says more than the agent's D-Bus health properties; those stand in when the
      // record cannot be read (another root, permissions).
      if (health.error !== null) return `${statusText(snap)}\n${'Record:'.padEnd(12)}unavailable (${health.error})`;
      const tail = health.record === null ? `${'Health:'.padEnd(12)}disabled` : healthStatusText(health.record);
      return `${statusText(snap, { withHealth: false })}\n${tail}`;
    },
  });
}
