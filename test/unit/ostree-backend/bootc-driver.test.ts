// The bootc driver's decisions over a scripted bootc (the adapter's runner answers from a table):
// a host booted from a locally built image is left alone, an older bootc cannot stage locked, and
// FinalizeDeployment takes the staged image's digest as the expected checksum; a rebase (another image
// name) is a `switch --download-only` keeping the booted tag and signature rule, or a typed refusal.
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/common/logger.js';
import { BootcCli } from '../../../src/ostree/backend/bootc/cli.js';
import { bootcDriver } from '../../../src/ostree/backend/bootc/driver.js';
import type { CommandRunner } from '../../../src/ostree/backend/command.js';
import type { DriverWork } from '../../../src/ostree/backend/driver.js';
import { OstreeCommandError } from '../../../src/ostree/backend/errors.js';
import { deployRequest, finalizeRequest } from '../../../src/ostree/backend/requests.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const entry = (digest: string, checksum: string, transport = 'registry', locked = false, image = 'r:5000/alt/atomic:stable', signature: unknown = 'containerPolicy') => ({
  image: { image: { image, transport, ...(signature === 'absent' ? {} : { signature }) }, imageDigest: digest, version: 'v', timestamp: null, architecture: 'amd64' },
  incompatible: false,
  pinned: false,
  downloadOnly: locked,
  ostree: { checksum: checksum.repeat(64), deploySerial: 0, stateroot: 'alt-atomic' },
});
const doc = (booted: unknown, staged: unknown = null) => JSON.stringify({ apiVersion: 'org.containers.bootc/v1', kind: 'BootcHost', status: { booted, staged, rollback: null } });

function world(initialStatus: string, opts: { version?: string; downloadOnly?: boolean; switchDownloadOnly?: boolean; after?: string } = {}) {
  let statusJson = initialStatus;
  const calls: string[] = [];
  const runner: CommandRunner = async (argv) => {
    const cmd = argv.join(' ');
    calls.push(cmd);
    if (cmd.endsWith(' --version')) return { stdout: `bootc ${opts.version ?? '1.12.0'}\n`, stderr: '' };
    if (cmd.endsWith(' upgrade --help')) return { stdout: opts.downloadOnly === false ? '--check --apply\n' : '--check --apply --download-only --from-downloaded\n', stderr: '' };
    if (cmd.endsWith(' switch --help')) return { stdout: opts.switchDownloadOnly === true ? '--apply --transport --download-only --from-downloaded\n' : '--apply --transport --retain\n', stderr: '' };
    if (cmd.includes(' status ')) return { stdout: statusJson, stderr: '' };
    if (cmd.includes(' switch ') || cmd.includes(' upgrade')) {
      // What bootc leaves staged, for the driver's read after a staging call.
      if (opts.after !== undefined && !cmd.includes('--from-downloaded')) statusJson = opts.after;
      return { stdout: '', stderr: '' };
    }
    throw new OstreeCommandError(argv, 1, `unexpected ${cmd}`);
  };
  const warnings: string[] = [];
  const logger = { warn: (_o: unknown, m: string) => warnings.push(m), info: () => undefined, debug: () => undefined, error: () => undefined, child: () => logger } as unknown as Logger;
  const cli = new BootcCli({ bootc: '/usr/bin/bootc', sysroot: '/', runBootc: runner, runOstree: runner, policy: '/etc/containers/policy.json' });
  const driver = bootcDriver({ cli, defaultStateroot: 'alt-atomic', logger });
  const messages: string[] = [];
  let reboots = 0;
  const work = async (): Promise<DriverWork> => ({
    osname: 'alt-atomic',
    signal: new AbortController().signal,
    reboot: async () => void reboots++,
    snapshot: await driver.status(),
    progress: { message: (t) => messages.push(t), taskBegin: () => undefined, taskEnd: () => undefined, percent: () => undefined, progressEnd: () => undefined },
  });
  return { driver, calls, warnings, messages, work, reboots: () => reboots, setStatus: (j: string) => void (statusJson = j) };
}

const lockedDeploy = (digest: string) => deployRequest(digest, { 'lock-finalization': { signature: 'b', value: true } });

describe('the bootc driver', () => {
  it('leaves a host booted from a locally built image (containers-storage) alone, saying so once', async () => {
    const w = world(doc(entry(D('a'), 'a', 'containers-storage')));
    await w.driver.describe();
    expect(w.warnings).toEqual(['host boots a locally built image (containers-storage:r:5000/alt/atomic:stable): updates are left to APM (apm system image update); alt-ostreed changes nothing']);
    await expect(w.driver.run(await w.work(), lockedDeploy(D('b')))).rejects.toThrow(/locally built image .* left to APM/);
    expect(w.calls.filter((c) => c.includes('upgrade') && !c.includes('--help'))).toEqual([]);
  });

  it('refuses to stage locked with a bootc older than 1.12 (no upgrade --download-only), running nothing', async () => {
    const w = world(doc(entry(D('a'), 'a')), { version: '1.11.2', downloadOnly: false });
    await expect(w.driver.run(await w.work(), lockedDeploy(D('b')))).rejects.toThrow("bootc 1.11.2 has no 'upgrade --download-only' (bootc >= 1.12): cannot stage with finalization locked");
    expect(w.calls.some((c) => c.endsWith('upgrade --download-only'))).toBe(false);
  });

  it('does nothing for the digest already staged and locked', async () => {
    const w = world(doc(entry(D('a'), 'a'), entry(D('b'), 'b', 'registry', true)));
    await w.driver.run(await w.work(), lockedDeploy(D('b')));
    expect(w.messages).toEqual(['No change.']);
  });

  it('finalizes by the staged image digest: unlocks with --from-downloaded, then reboots', async () => {
    const w = world(doc(entry(D('a'), 'a'), entry(D('b'), 'b', 'registry', true)));
    await w.driver.run(await w.work(), finalizeRequest({ checksum: { signature: 's', value: D('b') } }));
    expect(w.calls).toContain('/usr/bin/bootc upgrade --from-downloaded');
    expect(w.reboots()).toBe(1);
  });

  it('checks what is staged now, not the last snapshot: a deployment replaced since (by APM) is neither unlocked nor rebooted into', async () => {
    const w = world(doc(entry(D('a'), 'a'), entry(D('b'), 'b', 'registry', true)));
    const work = await w.work();
    w.setStatus(doc(entry(D('a'), 'a'), entry(D('c'), 'c', 'registry', true)));
    await expect(w.driver.run(work, finalizeRequest({ checksum: { signature: 's', value: D('b') } }))).rejects.toThrow(
      `Expected staged base checksum ${D('b')}, but found ${D('c')}`,
    );
    expect(w.calls).not.toContain('/usr/bin/bootc upgrade --from-downloaded');
    expect(w.reboots()).toBe(0);
  });

  it('refuses to finalize another digest than the staged one', async () => {
    const w = world(doc(entry(D('a'), 'a'), entry(D('b'), 'b', 'registry', true)));
    await expect(w.driver.run(await w.work(), finalizeRequest({ checksum: { signature: 's', value: D('c') } }))).rejects.toThrow(
      `Expected staged base checksum ${D('c')}, but found ${D('b')}`,
    );
    expect(w.reboots()).toBe(0);
  });

  describe('a rebase (the graph target under another image name)', () => {
    const OTHER = 'r:5000/alt/atomic-next';
    const rebaseDeploy = (digest: string) => lockedDeploy(`${OTHER}@${digest}`);
    const mutations = (w: ReturnType<typeof world>) => w.calls.filter((c) => /bootc (switch|upgrade)(?! --help)/.test(c) || c.includes('undeploy'));

    it('stages it with switch --download-only, following the booted tag in the new repository, under the booted signature rule', async () => {
      const after = doc(entry(D('a'), 'a'), entry(D('b'), 'b', 'registry', true, `${OTHER}:stable`));
      const w = world(doc(entry(D('a'), 'a')), { switchDownloadOnly: true, after });
      await w.driver.run(await w.work(), rebaseDeploy(D('b')));
      expect(mutations(w)).toEqual([`/usr/bin/bootc switch --download-only --transport registry --enforce-container-sigpolicy ${OTHER}:stable`]);
      expect(w.messages).toContain('Staging deployment...done (finalization locked)');
      expect(w.reboots()).toBe(0);
    });

    it('repeats no --enforce-container-sigpolicy for a booted image bootc tracks without a declared signature', async () => {
      const after = doc(entry(D('a'), 'a'), entry(D('b'), 'b', 'registry', true, `${OTHER}:stable`, 'absent'));
      const w = world(doc(entry(D('a'), 'a', 'registry', false, 'r:5000/alt/atomic:stable', 'absent')), { switchDownloadOnly: true, after });
      await w.driver.run(await w.work(), rebaseDeploy(D('b')));
      expect(mutations(w)).toEqual([`/usr/bin/bootc switch --download-only --transport registry ${OTHER}:stable`]);
    });

    it('pins the digest when the booted image is tracked by digest', async () => {
      const after = doc(entry(D('a'), 'a'), entry(D('b'), 'b', 'registry', true, `${OTHER}@${D('b')}`));
      const w = world(doc(entry(D('a'), 'a', 'registry', false, `r:5000/alt/atomic@${D('a')}`)), { switchDownloadOnly: true, after });
      await w.driver.run(await w.work(), rebaseDeploy(D('b')));
      expect(mutations(w)).toEqual([`/usr/bin/bootc switch --download-only --transport registry --enforce-container-sigpolicy ${OTHER}@${D('b')}`]);
    });

    it('discards what the new tag pointed at when it is not the graph digest', async () => {
      const after = doc(entry(D('a'), 'a'), entry(D('c'), 'c', 'registry', true, `${OTHER}:stable`));
      const w = world(doc(entry(D('a'), 'a')), { switchDownloadOnly: true, after });
      await expect(w.driver.run(await w.work(), rebaseDeploy(D('b')))).rejects.toThrow(`Staged image digest ${D('c')} is not the requested ${D('b')} (the tag ${OTHER}:stable moved); discarded`);
      expect(mutations(w).at(-1)).toContain('ostree admin undeploy');
    });

    it('refuses with a typed error, running nothing, on a bootc without switch --download-only (ALT 1.16.5)', async () => {
      const w = world(doc(entry(D('a'), 'a')), { version: '1.16.5' });
      const err = await w.driver.run(await w.work(), rebaseDeploy(D('b'))).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'OSTREED_BOOTC_REBASE', reason: 'no_switch_download_only' });
      expect(String((err as Error).message)).toContain(`bootc 1.16.5 has no 'switch --download-only' (bootc-dev/bootc#2342, after 1.16.5): cannot stage the rebase to ${OTHER}`);
      expect(mutations(w)).toEqual([]);
    });

    it('refuses a host verifying through an ostree remote (bootc switch cannot keep that), running nothing', async () => {
      const w = world(doc(entry(D('a'), 'a', 'registry', false, 'r:5000/alt/atomic:stable', { ostreeRemote: 'alt' })), { switchDownloadOnly: true });
      await expect(w.driver.run(await w.work(), rebaseDeploy(D('b')))).rejects.toMatchObject({ code: 'OSTREED_BOOTC_REBASE', reason: 'ostree_remote_signature' });
      expect(mutations(w)).toEqual([]);
    });

    it('keeps a same-name digest an upgrade, never a switch', async () => {
      const after = doc(entry(D('a'), 'a'), entry(D('b'), 'b', 'registry', true));
      const w = world(doc(entry(D('a'), 'a')), { switchDownloadOnly: true, after });
      await w.driver.run(await w.work(), lockedDeploy(`r:5000/alt/atomic@${D('b')}`));
      expect(mutations(w)).toEqual(['/usr/bin/bootc upgrade --download-only']);
    });
  });
});
