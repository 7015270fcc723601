// startOperatorSurface on a private bus: metrics and D-Bus up together; a missing bus is survivable,
// a metrics socket that cannot be bound is not.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { connectUpdated1 } from '../../../src/agent/operator/dbus-client.js';
import { startOperatorSurface } from '../../../src/agent/operator/surface.js';
import type { AgentSnapshot, OperatorPort } from '../../../src/agent/operator/snapshot.js';
import { startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';

const snap: AgentSnapshot = {
  state: 'reported_steady',
  bootedVersion: '1',
  bootedChecksum: 'c'.repeat(64),
  targetVersion: null,
  stagedVersion: null,
  lastCheckTimeMs: null,
  strategy: 'immediate',
  statusText: 'periodically polling for updates',
  healthVerdict: null,
  healthFailedChecks: [],
};
const port: OperatorPort = { snapshot: () => snap, checkNow: () => Promise.resolve(), updateNow: () => Promise.resolve() };

function scrape(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let t = '';
    connect(path).setEncoding('utf8').on('data', (d: string) => (t += d)).on('end', () => resolve(t)).on('error', reject);
  });
}

describe('agent/operator/surface', () => {
  let bus: PrivateBus;
  let dir = '';
  beforeAll(async () => {
    bus = await startPrivateBus();
    dir = await mkdtemp(join(tmpdir(), 'surface-'));
  });
  afterAll(async () => {
    await bus.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves metrics and the D-Bus properties together', async () => {
    const s = await startOperatorSurface({ port, busAddress: bus.address, renderMetrics: () => 'm 1\n', metricsListen: null, metricsSocketPath: join(dir, 'a.sock'), logger: memoryLogger() });
    const client = connectUpdated1({ busAddress: bus.address });
    try {
      expect(s.dbusAvailable).toBe(true);
      expect(await scrape(join(dir, 'a.sock'))).toBe('m 1\n');
      expect(await client.snapshot()).toEqual(snap);
    } finally {
      client.close();
      await s.close();
    }
  });

  it('keeps going without D-Bus when the bus is unreachable, logging why', async () => {
    const log = memoryLogger();
    const s = await startOperatorSurface({ port, busAddress: 'unix:path=/nonexistent/bus.sock', renderMetrics: () => 'm 2\n', metricsListen: null, metricsSocketPath: join(dir, 'b.sock'), logger: log });
    try {
      expect(s.dbusAvailable).toBe(false);
      s.publish();
      expect(await scrape(join(dir, 'b.sock'))).toBe('m 2\n');
      expect(log.records.some((r) => r.level === 'error' && r.msg.startsWith('failed to start D-Bus service'))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('fails when the metrics socket cannot be bound', async () => {
    await expect(
      startOperatorSurface({ port, busAddress: bus.address, renderMetrics: () => '', metricsListen: null, metricsSocketPath: join(dir, 'missing', 'c.sock'), logger: memoryLogger() }),
    ).rejects.toMatchObject({ code: 'OPERATOR_METRICS_LISTEN' });
  });
});
