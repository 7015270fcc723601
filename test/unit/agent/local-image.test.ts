// A host booted from a locally built image (APM's rebuild mode, transport `containers-storage`):
// the deployment is read, and the agent leaves the host to its local tooling with one log line.
import { describe, expect, it } from 'vitest';
import { statusText } from '../../../src/agent/status.js';
import { transition } from '../../../src/agent/transition.js';
import { parseDeployment } from '../../../src/ostree/client/parse.js';
import { deploymentPayload } from '../../../src/ostree/deployment.js';
import { release } from './fixtures.js';
import { makeAgent } from './harness.js';

const v = (signature: string, value: unknown): { signature: string; value: unknown } => ({ signature, value });
const C = 'c'.repeat(64);
const D = `sha256:${'d'.repeat(64)}`;
const LOCAL = 'ostree-unverified-image:containers-storage:localhost/alt-atomic:local';

describe('a deployment booted from a locally built image', () => {
  it('is read with image.local, its payload naming the local reference (no graph node can match it)', () => {
    const d = parseDeployment(
      { id: v('s', `alt-${C}.0`), osname: v('s', 'alt'), checksum: v('s', C), serial: v('i', 0), booted: v('b', true), 'container-image-reference': v('s', LOCAL), 'container-image-reference-digest': v('s', D) },
      'Deployments[0]',
    );
    expect(d.image).toEqual({ reference: LOCAL, digest: D, pullspec: `${LOCAL}@${D}`, local: true });
    expect(deploymentPayload(d)).toBe(`${LOCAL}@${D}`);
  });

  it('ends the agent with a reason the status text names, not "disabled by configuration"', () => {
    const end = transition({ kind: 'initialized' }, { type: 'end', localImage: LOCAL });
    expect(end).toEqual({ kind: 'end', release: null, localImage: LOCAL });
    expect(statusText(end, 0)).toBe(`booted from a locally built image ${LOCAL}; updates are left to its local tooling (APM)`);
    expect(transition(end, { type: 'idle' })).toBe(end);
  });
});

describe('the agent on a host booted from a locally built image', () => {
  it('reports steady (a held slot is released), logs one clear line, checks and stages nothing, then ends', async () => {
    const t = makeAgent({ target: release(2) });
    t.ostree.state.booted = { ...t.ostree.state.booted, image: { reference: LOCAL, digest: D, pullspec: `${LOCAL}@${D}`, local: true } };
    await t.stepUntil('end');
    for (let i = 0; i < 3; i++) await t.agent.step();
    expect(t.agent.state).toEqual({ kind: 'end', release: null, localImage: LOCAL });
    expect(t.strategy.state.steadyReports).toBe(1);
    expect(t.events()).toContain('steady_reported');
    expect(t.graph.state.facts).toHaveLength(0);
    expect(t.ostree.state.calls.some((c) => c.startsWith('stage'))).toBe(false);
    const lines = t.logger.records.filter((r) => r.fields.event === 'local_image_booted');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: `booted from a locally built image ${LOCAL}; alt-updated leaves this host to its local tooling (APM)` });
    expect(t.notifier.sent.at(-1)).toBe(`STATUS=booted from a locally built image ${LOCAL}; updates are left to its local tooling (APM)`);
  });
});
