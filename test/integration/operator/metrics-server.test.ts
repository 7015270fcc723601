// The metrics text through both transports, checked by the real promtool.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { createAgentMetrics, type AgentMetrics } from '../../../src/agent/operator/metrics.js';
import { startMetricsServer, type MetricsServer } from '../../../src/agent/operator/metrics-server.js';

function exercise(m: AgentMetrics): void {
  m.identity({ osVersion: '20261127.0.0', basearch: 'x86_64', stream: 'altcos/x86_64/"p11"\\', platform: 'qemu', rolloutWariness: 0.25 });
  m.configured({ updatesEnabled: true, allowDowngrade: false, strategy: 'periodic', periodicScheduleLengthMinutes: 120 });
  m.refreshed(1_790_000_000_000);
  m.stateChanged(1_790_000_000_000);
  m.updatePending(1_789_990_000_000);
  m.updateCheck();
  m.updateCheckFailed('generic_http_503');
  m.graphSeen({ nodes: 3, edges: 2 });
  m.ignoredTargets(1);
  m.bootedDeadend(false);
  m.canFinalize('deny');
  m.canFinalize('error');
  m.strategyError('fleet_lock_http');
  m.fleetLockRequest('steady_state');
  m.fleetLockError('steady_state', 'generic_http_500');
  m.deployAttempt();
  m.deployFailure();
  m.registerDriverFailure();
  m.finalizeAttempt();
  m.finalizeFailure();
  m.statusAttempt();
  m.statusFailure();
  m.finalizationAttempt();
  m.finalizationSuccess();
  m.finalizationBlocked('active_usersessions');
  m.finalizationBlocked('inhibitor');
  m.postponed();
  m.activeUsers(2);
  m.releaseAbandoned();
  m.releaseRefused('unsigned');
  m.health({ failedReleases: 1, rollbacks: 1, manualIntervention: false, lastVerdict: 'rolled_back' });
}

function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}

function readSocket(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = connect(path);
    s.setEncoding('utf8').on('data', (d: string) => (text += d));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

describe('agent/operator/metrics-server', () => {
  let dir = '';
  let server: MetricsServer;
  const metrics = createAgentMetrics({ processStartMs: 1_789_999_000_000 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metrics-'));
    exercise(metrics);
    server = await startMetricsServer({
      socketPath: join(dir, 'metrics.promsock'),
      listen: '127.0.0.1:0',
      render: () => metrics.render(),
      logger: memoryLogger(),
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the whole exposition on connect and closes (no request needed)', async () => {
    const text = await readSocket(join(dir, 'metrics.promsock'));
    expect(text).toBe(metrics.render());
    expect((await stat(join(dir, 'metrics.promsock'))).mode & 0o777).toBe(0o666);
  });

  it('produces text that promtool accepts, with every metric populated', async () => {
    const text = await readSocket(join(dir, 'metrics.promsock'));
    const res = await promtoolCheck(text);
    expect(res.output).toBe('');
    expect(res.code).toBe(0);
    expect(text.match(/^# TYPE /gm)).toHaveLength(38);
  });

  it('serves the same text over loopback HTTP at /metrics with the 0.0.4 content type', async () => {
    const url = `http://127.0.0.1:${server.tcp!.port}`;
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toBe(metrics.render());
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('replaces a stale socket file left by a previous run', async () => {
    const again = await startMetricsServer({ socketPath: join(dir, 'stale.promsock'), listen: null, render: () => 'a 1\n', logger: memoryLogger() });
    await again.close();
    const third = await startMetricsServer({ socketPath: join(dir, 'stale.promsock'), listen: null, render: () => 'b 1\n', logger: memoryLogger() });
    try {
      expect(await readSocket(join(dir, 'stale.promsock'))).toBe('b 1\n');
      expect(third.tcp).toBeNull();
    } finally {
      await third.close();
    }
  });

  it('survives a failing render: the scrape fails, the server keeps serving', async () => {
    let fail = true;
    const log = memoryLogger();
    const s = await startMetricsServer({
      socketPath: join(dir, 'flaky.promsock'),
      listen: '127.0.0.1:0',
      render: () => {
        if (fail) throw new Error('boom');
        return 'ok 1\n';
      },
      logger: log,
    });
    try {
      await expect(readSocket(join(dir, 'flaky.promsock'))).resolves.toBe('');
      expect((await fetch(`http://127.0.0.1:${s.tcp!.port}/metrics`)).status).toBe(500);
      fail = false;
      expect(await readSocket(join(dir, 'flaky.promsock'))).toBe('ok 1\n');
      expect(log.records.filter((r) => r.msg === 'failed to render metrics')).toHaveLength(2);
    } finally {
      await s.close();
    }
  });

  it('fails with a typed error when the socket directory is missing, or the address is not loopback', async () => {
    await expect(startMetricsServer({ socketPath: join(dir, 'nope', 'm.sock'), listen: null, render: () => '', logger: memoryLogger() }))
      .rejects.toMatchObject({ code: 'OPERATOR_METRICS_LISTEN' });
    await expect(startMetricsServer({ socketPath: join(dir, 'x.sock'), listen: '0.0.0.0:9100', render: () => '', logger: memoryLogger() }))
      .rejects.toThrow(/not a loopback address/);
  });
});
