// One real node (systemd-nspawn, real systemd, journald, logind, system bus; test/realnode/) through
// two releases, the first a barrier, with the immediate strategy: real systemd starts
// alt-updated.service, the bus activates alt-ostreed, the agent stages through the real units with
// their sandboxes, reboots through the backend's `systemctl reboot`, the real
// ostree-finalize-staged.service finalizes at shutdown, and the boot loop boots the new deployment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/graphd.js';
import { realNodeUnavailable } from '../realnode/available.js';
import { type RealNodeImage } from '../realnode/image.js';
import type { RealNode } from '../realnode/node.js';
import { startOneNode, type OneNodeWorld } from '../realnode/one-node.js';
import { REALNODE_STREAM } from '../realnode/product.js';
import { agentConfig, DEBUG_LOG_DROPIN, diagnoseOnFailure, events, type JournalRecord, loadImage, logFileSummary, probeBoot, readJournal } from '../realnode/scenario.js';

const [V1, V2] = ['20261115.0.0', '20261122.0.0'];

const unavailable = await realNodeUnavailable();
if (unavailable !== null) console.warn(unavailable);

describe.skipIf(unavailable !== null)('real node: one node through a barrier and the newest release, immediate strategy', () => {
  let image: RealNodeImage;
  let world: OneNodeWorld | undefined;
  let node: RealNode | undefined;
  let cannotBoot: string | null = null;
  const started = Date.now();

  const journal = (args: readonly string[]): Promise<JournalRecord[]> => readJournal(node!, args);

  beforeAll(async () => {
    image = await loadImage();
    cannotBoot = await probeBoot(image);
    if (cannotBoot !== null) return;
    world = await startOneNode(image, {
      releases: [
        [V1, '2026-11-15 00:00:00 +0000'],
        [V2, '2026-11-22 00:00:00 +0000'],
      ],
      policies: { [REALNODE_STREAM]: { stream: REALNODE_STREAM, releases: [{ version: V1, metadata: { barrier: { reason: 'every node passes 20261115' } } }] } },
      config: (graphdUrl) => agentConfig(graphdUrl, 'immediate'),
      // Debug records (no_update, PRIORITY=7) beside the info ones: the journal shows both levels.
      unitDropIns: DEBUG_LOG_DROPIN,
    });
    node = world.node;
  }, 600_000);

  diagnoseOnFailure(() => [node]);

  afterAll(async () => {
    await world?.close();
    logFileSummary(started, node);
  }, 60_000);

  it('arrives at the newest release through the barrier, with one reboot per release', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const n = node!;
    await n.waitBooted(1, 120_000);
    expect(await n.bootedVersion()).toBe('20261101.0.0');
    await n.waitBooted(2, 180_000);
    expect(await n.bootedVersion()).toBe(V1);
    await n.waitBooted(3, 180_000);
    expect(await n.bootedVersion()).toBe(V2);
    // Settled: three checks on the newest release that found nothing, and still the third boot.
    await waitFor('three checks on the newest release', async () => events(await journal(['-b', '0', '-u', 'alt-updated'])).filter((e) => e === 'no_update').length >= 3, 120_000);
    expect(n.boots.map((b) => b.exitCode)).toEqual([133, 133, null]);
    const deployments = (await n.exec(['ostree', 'admin', 'status'])).stdout;
    expect(deployments).toMatch(new RegExp(`\\* altcos [0-9a-f]+\\.0\\n\\s+Version: ${V2.replace(/\./g, '\\.')}`));
    expect(deployments).toMatch(/\(rollback\)/);
  }, 480_000);

  it('shows the previous boot in the journal: our event ids with their priorities, finalization at shutdown', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const prev = await journal(['-b', '-1', '-u', 'alt-updated']);
    const seen = events(prev);
    // The barrier boot (V1) found V2, staged it, finalized and rebooted.
    for (const e of ['agent_initialized', 'update_found', 'update_staged', 'update_finalizing']) expect(seen).toContain(e);
    const found = prev.find((r) => /\bevent=update_found\b/.test(r.MESSAGE))!;
    expect(found.MESSAGE).toContain(`release=${V2}`);
    // journald parsed the `<N>` prefixes: no prefix left in MESSAGE, info is 6 and debug 7.
    expect(found.PRIORITY).toBe('6');
    expect(prev.find((r) => /\bevent=state_changed\b/.test(r.MESSAGE))?.PRIORITY).toBe('7');
    expect(prev.filter((r) => /^<\d>/.test(r.MESSAGE))).toEqual([]);
    expect(found._SYSTEMD_UNIT).toBe('alt-updated.service');
    expect(found._UID).not.toBe('0');
    // The first boot targeted the barrier, not the newest release.
    const first = await journal(['-b', '-2', '-u', 'alt-updated']);
    expect(first.find((r) => /\bevent=update_found\b/.test(r.MESSAGE))?.MESSAGE).toContain(`release=${V1}`);
    const finalize = (await journal(['-b', '-1', '-u', 'ostree-finalize-staged.service'])).map((r) => r.MESSAGE).join('\n');
    expect(finalize).toMatch(/Bootloader updated/);
    const bus = (await journal(['-b', '0', '-u', 'dbus.service'])).map((r) => r.MESSAGE).join('\n');
    expect(bus).toMatch(/Activating via systemd: service name='org\.projectatomic\.rpmostree1' unit='alt-ostreed\.service'/);
  }, 120_000);

  it('says what it is doing in its unit StatusText', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    const { stdout } = await node!.exec(['systemctl', 'show', 'alt-updated', '-p', 'StatusText', '-p', 'ActiveState']);
    expect(stdout).toMatch(/^ActiveState=active$/m);
    expect(stdout).toMatch(/^StatusText=periodically polling for updates \(last checked /m);
  }, 60_000);
});

