// The real-node harness's network (test/realnode/network.ts) on the real kernel: one test worker runs
// several real-node files in turn, each making and destroying its own network. A namespace with a
// process still in it (a container dying slowly on a busy machine) outlives `ip netns del`, and with
// it its veth; the next file's network must still attach its node 1 (CI failed on exactly that).
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../realnode/exec.js';
import { trackProcess } from '../helpers/scope.js';
import { createNetwork, linkNames, type RealNodeNetwork } from '../realnode/network.js';

const root = process.getuid?.() === 0;
const hasIp = root && (await run('ip', ['-V'], { check: false }).then((r) => r.code === 0).catch(() => false));

describe.skipIf(!hasIp)('real-node network: one worker, one network after another', () => {
  const made: RealNodeNetwork[] = [];
  let holder: ReturnType<typeof spawn> | undefined;
  afterAll(async () => {
    holder?.kill('SIGKILL');
    for (const n of made) await n.destroy();
  });

  it('attaches node 1 of a second network while the first one\'s namespace is still held by a process', async () => {
    const first = await createNetwork();
    made.push(first);
    const link = await first.attach(1);
    holder = spawn('ip', ['netns', 'exec', link.netns, 'sleep', '600'], { stdio: 'ignore' });
    trackProcess(holder);
    await new Promise<void>((resolve, reject) => holder!.once('spawn', resolve).once('error', reject));
    await first.destroy();
    const second = await createNetwork();
    made.push(second);
    const again = await second.attach(1);
    expect(again.netns).not.toBe(link.netns);
    // Every name this harness makes fits a link name (15 bytes).
    for (const name of (await linkNames()).filter((n) => /^rn[bv]/.test(n))) expect(name.length).toBeLessThanOrEqual(15);
    expect((await run('ip', ['-n', again.netns, '-o', 'addr', 'show', 'eth0'])).stdout).toContain(again.address);
  });
});
