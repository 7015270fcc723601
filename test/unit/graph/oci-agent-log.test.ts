// The agent says why an image host gets no update (its digest is not in the graph: a fresh install)
// and when the update is a rebase to another image name (Zincati's behaviour, made visible).
import { describe, expect, it } from 'vitest';
import { checkForUpdate } from '../../../src/agent/check.js';
import { AgentMemory, type AgentDeps } from '../../../src/agent/context.js';
import type { GraphCheck } from '../../../src/agent/ports.js';
import { ManualClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import type { Deployment } from '../../../src/ostree/deployment.js';
import { countingMetricsForTest, memoryDeadendForTest } from '../agent/fixtures.js';

const dg = (c: string): string => `sha256:${c.repeat(64)}`;
const booted: Deployment = {
  id: 'x',
  osname: 'alt',
  checksum: '9'.repeat(64),
  version: '1',
  origin: null,
  stream: null,
  timestampMs: 0,
  serial: 0,
  booted: true,
  staged: false,
  finalizationLocked: false,
  pinned: false,
  image: { reference: 'docker://r.example/alt/atomic:stable', digest: dg('a'), pullspec: `r.example/alt/atomic@${dg('a')}` },
};

async function check(answer: GraphCheck): Promise<ReturnType<typeof memoryLogger>['records']> {
  const logger = memoryLogger();
  const deps = {
    clock: new ManualClock(0),
    metrics: countingMetricsForTest(),
    deadend: memoryDeadendForTest(),
    settings: { updates: { allowDowngrade: false } },
    graph: { check: () => Promise.resolve(answer) },
    logger,
  } as unknown as AgentDeps;
  const mem = new AgentMemory();
  mem.booted = booted;
  await checkForUpdate(deps, mem, logger);
  return logger.records;
}

describe('agent log for image hosts', () => {
  it('says the booted image is not in the graph (fresh install) and that there is no update', async () => {
    const records = await check({ target: null, deadend: null, offered: null, bootedInGraph: false });
    const r = records.find((x) => x.fields['event'] === 'booted_not_in_graph');
    expect(r?.fields).toMatchObject({ payload: `r.example/alt/atomic@${dg('a')}`, oci: true });
    expect(r?.msg).toMatch(/not in the update graph.*no update/);
  });

  it('says an update to another image name is a rebase', async () => {
    const target = { version: '2', payload: `r.example/alt/atomic-nvidia@${dg('b')}`, ageIndex: 2, scheme: 'oci' as const };
    const records = await check({ target, deadend: { isDeadend: false, reason: null }, offered: new Set([target.payload]), bootedInGraph: true });
    expect(records.find((x) => x.fields['event'] === 'update_rebase')?.fields).toMatchObject({ from: 'r.example/alt/atomic', to: 'r.example/alt/atomic-nvidia' });
    expect(records.some((x) => x.fields['event'] === 'booted_not_in_graph')).toBe(false);
  });

  it('logs no rebase for a new digest of the same image', async () => {
    const target = { version: '2', payload: `r.example/alt/atomic@${dg('b')}`, ageIndex: 2, scheme: 'oci' as const };
    const records = await check({ target, deadend: { isDeadend: false, reason: null }, offered: new Set([target.payload]), bootedInGraph: true });
    expect(records.some((x) => x.fields['event'] === 'update_rebase')).toBe(false);
  });
});
