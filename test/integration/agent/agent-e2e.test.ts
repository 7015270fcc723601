// The real agent process against the real alt-ostreed (fake-booted ostree sysroot), the real
// alt-graphd over a real repo, on private buses and 127.0.0.1.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';

const REF = 'altcos/x86_64/sisyphus';
const CLI = fileURLToPath(new URL('../../../dist/src/cli/main.js', import.meta.url));
const execFileP = promisify(execFile);

describe('alt-updated end to end (immediate strategy)', () => {
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let node: TestbedNode;
  const events = (): string[] => node.records.map((r) => r.event ?? '').filter(Boolean);

  beforeAll(async () => {
    repo = await createRepo();
    await repo.commit({ ref: REF, version: '20261101.0.0', timestamp: '2026-11-01 00:00:00' });
    http = await serveDir(repo.path);
    graphd = await startTestGraphd({ repoPath: repo.path });
    node = await createTestbedNode({
      name: 'node1',
      repoUrl: http.url,
      ref: REF,
      ...(process.env.DBG ? { onRecord: (_n: string, r: { event?: string; msg: string }) => console.log(Date.now() % 100000, r.event, r.msg) } : {}),
      configToml: `[cincinnati]\nbase_url = "${graphd.url}"\n[agent.timing]\nsteady_interval_secs = 1\n[updates]\nstrategy = "immediate"\n`,
    });
  });
  afterAll(async () => {
    await node?.destroy();
    await graphd?.close();
    await http?.close();
  });

  it('polls steadily and stages nothing while the booted release is the newest', async () => {
    await node.start();
    await waitFor('two update checks without an update', () => events().filter((e) => e === 'no_update').length >= 2);
    expect(events()).toContain('steady_reported');
    expect(events()).not.toContain('update_found');
    expect(await node.reboots()).toBe(0);
  });

  it('answers alt-updatectl status over its D-Bus interface, and checks now on request', async () => {
    const cli = async (...args: string[]): Promise<{ stdout: string }> =>
      execFileP(process.execPath, [CLI, ...args, '--bus-address', node.bus.address], { encoding: 'utf8' });
    const { stdout } = await cli('status', '--json');
    const status = JSON.parse(stdout) as Record<string, unknown>;
    expect(status).toMatchObject({ state: 'no_new_update', strategy: 'immediate', booted_version: '20261101.0.0', staged_version: null });
    expect(typeof status['last_check_time']).toBe('string');
    const before = node.records.length;
    await cli('check');
    expect(node.records.slice(before).map((r) => r.event)).toEqual(expect.arrayContaining(['check_requested', 'no_update']));
  });

  it('stages, finalizes and reboots into a new release exactly once, then polls from it', async () => {
    const v2 = await repo.commit({ ref: REF, version: '20261115.0.0' });
    await waitFor('the simulated reboot', async () => (await node.reboots()) === 1);
    await waitFor('the agent to finish the update', () => events().includes('update_finalized'), 60_000);
    expect(events()).toEqual(expect.arrayContaining(['update_found', 'update_staged', 'update_finalizing', 'update_finalized']));
    await node.powerCycleIfRebooted();
    expect(await node.sysroot.bootedChecksum()).toBe(v2.checksum);
    expect(await node.bootedVersion()).toBe('20261115.0.0');
    const before = node.records.length;
    await waitFor('steady polling after the reboot', () => node.records.slice(before).filter((r) => r.event === 'no_update').length >= 2);
    expect(await node.reboots()).toBe(1);
  });

  it('keeps running and polling while the graph server is down, and recovers when it is back', async () => {
    const port = Number(new URL(graphd.url).port);
    await graphd.close();
    const before = node.records.length;
    await waitFor('failed update checks', () => node.records.slice(before).filter((r) => r.event === 'update_check_failed').length >= 2);
    expect(node.agent()?.exitCode ?? null).toBeNull();
    graphd = await startTestGraphd({ repoPath: repo.path, port });
    const back = node.records.length;
    await waitFor('a successful check again', () => node.records.slice(back).some((r) => r.event === 'no_update'));
    expect(await node.reboots()).toBe(1);
  });
});
