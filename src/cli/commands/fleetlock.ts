// `alt-updatectl fleetlock lock|unlock|status|release|resume`: share the fleet's reboot lock from
// scripts and other services (coreos/zincati#1324), and resume a group its failure policy halted.
// Exit codes: 0 done, 1 error, 2 bad usage, 3 lock refused (all slots held, outside the maintenance
// window or group halted; retry later).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from '../../common/clock.js';
import { AltError } from '../../common/errors.js';
import { loadSettings } from '../../config/load.js';
import { createFleetLockAdminClient, type GroupStatus } from '../../fleetlock/admin-client.js';
import { createFleetLockClient } from '../../fleetlock/client.js';
import { FleetLockError } from '../../fleetlock/errors.js';
import { GROUP_PATTERN } from '../../fleetlock/protocol.js';
import { appSpecificId, parseMachineId } from '../../identity/node-id.js';
import { CliUsageError, type CliIo } from '../command.js';
import { parseCliFlags } from './config.js';

const USAGE = `usage: alt-updatectl fleetlock lock   [--url URL] [--id ID] [--group G] [--token T] [--wait [--retry-secs N] [--timeout-secs N]]
       alt-updatectl fleetlock unlock [--url URL] [--id ID] [--group G] [--token T]
       alt-updatectl fleetlock status  --url URL [--group G] [--token T] [--json]
       alt-updatectl fleetlock release --url URL --group G --id ID [--token ADMIN_TOKEN]
       alt-updatectl fleetlock resume  GROUP --url URL [--token ADMIN_TOKEN]
common: [--cacert FILE] [--root DIR]; the token may also come from $ALT_FLEETLOCK_TOKEN.
URL, group, token and id default to updates.fleet_lock.base_url, identity.group,
updates.fleet_lock.token and this node's id (identity.node_uuid or the app-specific machine id).`;

/** Exit code for a refused lock (slots full, outside the window, group halted): a script may retry later. */
export const EXIT_LOCK_REFUSED = 3;

const REFUSED_KINDS = new Set(['failed_lock_semaphore_full', 'outside_maintenance_window', 'group_halted', 'lock_held', 'failed_lock']);

const FLAGS = {
  url: { type: 'string' },
  id: { type: 'string' },
  group: { type: 'string' },
  token: { type: 'string' },
  cacert: { type: 'string' },
  root: { type: 'string' },
  json: { type: 'boolean' },
  wait: { type: 'boolean' },
  'retry-secs': { type: 'string' },
  'timeout-secs': { type: 'string' },
  help: { type: 'boolean' },
} as const;

function seconds(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliUsageError(`--${name} must be a positive number of seconds`);
  return n;
}

/** This node's FleetLock id: `identity.node_uuid`, else the Zincati app-specific id of the machine id. */
export async function defaultNodeId(root: string, override: string | null): Promise<string> {
  if (override !== null) return override;
  const path = join(root, 'etc/machine-id');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    throw new AltError('IDENTITY_MACHINE_ID', `${path}: cannot read machine id (pass --id): ${(err as Error).message}`, { cause: err });
  }
  return appSpecificId(parseMachineId(text, path));
}

/** Renders the admin view of groups as text. */
export function renderGroups(groups: readonly GroupStatus[]): string {
  const lines: string[] = [];
  for (const g of groups) {
    const extra = g.configured ? '' : ' (not configured)';
    const expiry = g.staleAfterSecs === null ? 'no expiry' : `stale after ${g.staleAfterSecs}s`;
    const policy = g.haltAfterFailures === null ? '' : `, halts after ${g.haltAfterFailures} failure(s) in ${g.haltWindowSecs ?? '?'}s`;
    lines.push(`group ${g.name}: ${g.holders.length}/${g.slots} slots held, ${expiry}${policy}${extra}`);
    if (g.halted !== null) lines.push(`  HALTED since ${g.halted.since}: ${g.halted.reason}`);
    for (const h of g.holders) {
      lines.push(`  ${h.id}  locked ${h.lockedAt}  renewed ${h.renewedAt}${h.stale ? '  STALE' : ''}`);
    }
    for (const f of g.failures) {
      lines.push(`  failure: ${f.id} ${f.result.replace('_', ' ')} on ${f.release} at ${f.reportedAt}${f.reason === null ? '' : `: ${f.reason}`}`);
    }
  }
  return lines.join('\n');
}

/** Runs `fleetlock`; resolves to the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCliFlags(argv, FLAGS, USAGE);
  if (v.help) {
    io.stdout(USAGE);
    return 0;
  }
  const [action, ...extra] = positionals;
  // `resume` names its group as an argument (or --group); every other action takes none.
  const maxExtra = action === 'resume' ? 1 : 0;
  if (action === undefined || extra.length > maxExtra || !['lock', 'unlock', 'status', 'release', 'resume'].includes(action)) {
    throw new CliUsageError(USAGE);
  }
  if (action === 'resume' && extra.length === 1 && v.group !== undefined && v.group !== extra[0]) {
    throw new CliUsageError(`resume: GROUP '${extra[0]}' and --group '${v.group}' differ`);
  }
  // A halt is lifted only for a group named on the command line, never this node's default group.
  const resumeGroup = extra[0] ?? v.group;
  const root = v.root ?? '/';
  // Settings are read only for what the flags leave out, so the command also works on a machine
  // without an alt-updated configuration.
  const needsSettings = v.url === undefined || (action !== 'status' && action !== 'resume' && v.group === undefined) || ((action === 'lock' || action === 'unlock') && v.id === undefined);
  const settings = needsSettings ? (await loadSettings({ root })).settings : null;
  const url = v.url ?? settings?.updates.fleetLock.baseUrl ?? null;
  if (url === null) throw new CliUsageError(`--url is required (updates.fleet_lock.base_url is not set)\n${USAGE}`);
  if (url.includes('${')) throw new CliUsageError(`updates.fleet_lock.base_url is templated (${url}); pass --url`);
  try {
    new URL(url);
  } catch {
    throw new CliUsageError(`--url: '${url}' is not a URL`);
  }
  const group = v.group ?? settings?.identity.group ?? null;
  if (group !== null && !GROUP_PATTERN.test(group)) throw new CliUsageError(`--group must match ^[a-zA-Z0-9.-]+$`);
  const token = v.token ?? io.env['ALT_FLEETLOCK_TOKEN'] ?? settings?.updates.fleetLock.token ?? null;
  const ca = v.cacert === undefined ? undefined : await readFile(v.cacert);
  const tls = ca === undefined ? {} : { ca };
  try {
    if (action === 'status' || action === 'release' || action === 'resume') {
      const admin = createFleetLockAdminClient({ baseUrl: url, token, ...tls });
      try {
        if (action === 'release') {
          if (group === null || v.id === undefined) throw new CliUsageError(`release needs --group and --id\n${USAGE}`);
          const released = await admin.release(group, v.id);
          io.stdout(released ? `released '${v.id}' in group '${group}'` : `'${v.id}' held no slot in group '${group}'`);
          return 0;
        }
        if (action === 'resume') {
          if (resumeGroup === undefined || !GROUP_PATTERN.test(resumeGroup)) throw new CliUsageError(`resume needs GROUP (matching ^[a-zA-Z0-9.-]+$)\n${USAGE}`);
          const resumed = await admin.resume(resumeGroup);
          io.stdout(resumed ? `resumed: group '${resumeGroup}' takes reboots again` : `not halted: group '${resumeGroup}' was not halted`);
          return 0;
        }
        const groups = v.group === undefined ? await admin.listGroups() : [await admin.group(v.group)];
        io.stdout(v.json ? JSON.stringify(v.group === undefined ? groups : groups[0], null, 2) : renderGroups(groups));
        return 0;
      } finally {
        await admin.close();
      }
    }
    const id = v.id ?? (await defaultNodeId(root, settings?.identity.nodeUuid ?? null));
    const client = createFleetLockClient({ baseUrl: url, token, ...tls });
    const params = { id, group: group ?? 'default' };
    try {
      if (action === 'unlock') {
        await client.steadyState(params);
        io.stdout(`unlocked: '${id}' holds no slot in group '${params.group}'`);
        return 0;
      }
      const clock = systemClock();
      const retryMs = seconds(v['retry-secs'], 'retry-secs', 30) * 1000;
      const deadline = clock.nowMs() + seconds(v['timeout-secs'], 'timeout-secs', Number.MAX_SAFE_INTEGER / 1000) * 1000;
      for (;;) {
        try {
          await client.preReboot(params);
          io.stdout(`locked: '${id}' holds a slot in group '${params.group}'`);
          return 0;
        } catch (err: unknown) {
          const refused = err instanceof FleetLockError && REFUSED_KINDS.has(err.kind);
          if (!v.wait || !refused || clock.nowMs() + retryMs > deadline) throw err;
          io.stderr(`alt-updatectl fleetlock: ${err.message}; retrying in ${retryMs / 1000}s`);
          await clock.sleep(retryMs);
        }
      }
    } finally {
      await client.close();
    }
  } catch (err: unknown) {
    if (err instanceof FleetLockError) {
      io.stderr(`alt-updatectl fleetlock ${action}: ${err.message} (kind ${err.kind})`);
      return REFUSED_KINDS.has(err.kind) ? EXIT_LOCK_REFUSED : 1;
    }
    if (err instanceof AltError) {
      io.stderr(`alt-updatectl fleetlock ${action}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
