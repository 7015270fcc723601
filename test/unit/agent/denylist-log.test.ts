// The start-up denylist line names each deployment so an operator can tell them apart: for an image
// deployment by its digest (the first 12 characters of `<registry>/<repo>@sha256:…` are the registry).
import { describe, expect, it } from 'vitest';
import { release } from './fixtures.js';
import { makeAgent } from './harness.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const image = (digest: string) => ({ reference: 'ostree-image-signed:docker://127.0.0.1:5000/alt/atomic:stable', digest, pullspec: `127.0.0.1:5000/alt/atomic@${digest}` });

describe('the start-up denylist log line', () => {
  it('names an image deployment by its image and digest prefix, not the registry address', async () => {
    const t = makeAgent({ booted: release(2), rollback: release(1) });
    t.ostree.state.booted = { ...t.ostree.state.booted, image: image(D('b')) };
    t.ostree.state.rollback = { ...t.ostree.state.rollback!, image: image(D('a')) };
    await t.stepUntil('initialized');
    const msgs = t.logger.records.filter((r) => r.fields.event === 'deployment_denylisted').map((r) => r.msg);
    expect(msgs.sort()).toEqual([
      `deployment ${release(1).version} (127.0.0.1:5000/alt/atomic@${'a'.repeat(12)}) will be excluded from being a future update target`,
      `deployment ${release(2).version} (127.0.0.1:5000/alt/atomic@${'b'.repeat(12)}) will be excluded from being a future update target`,
    ]);
  });

  it('names an ostree deployment by its checksum prefix, as before', async () => {
    const t = makeAgent({ booted: release(2) });
    await t.stepUntil('initialized');
    const [msg] = t.logger.records.filter((r) => r.fields.event === 'deployment_denylisted').map((r) => r.msg);
    expect(msg).toBe(`deployment ${release(2).version} (${release(2).payload.slice(0, 12)}) will be excluded from being a future update target`);
  });
});
