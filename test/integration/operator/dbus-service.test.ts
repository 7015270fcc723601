// org.altlinux.Updated1 on a private dbus-daemon: properties, PropertiesChanged, root-only methods
// (checked by the agent's own uid check and by the shipped bus policy), and the alt-updatectl
// status/check/update-now commands against it.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dbus from 'dbus-next';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AltError } from '../../../src/common/errors.js';
import { memoryLogger } from '../../../src/common/logger.js';
import type { CliIo } from '../../../src/cli/command.js';
import { run as runStatus } from '../../../src/cli/commands/status.js';
import { run as runCheck } from '../../../src/cli/commands/check.js';
import { run as runUpdateNow } from '../../../src/cli/commands/update-now.js';
import { startOperatorService, UPDATED1, type OperatorService } from '../../../src/agent/operator/dbus-service.js';
import type { AgentSnapshot, OperatorPort } from '../../../src/agent/operator/snapshot.js';
import { SYSTEM_BUS_DEFAULT_POLICY, startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..', '..');
const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

interface FakeAgent extends OperatorPort {
  snap: AgentSnapshot;
  calls: string[];
  updateNowError: Error | null;
}

function fakeAgent(): FakeAgent {
  const a: FakeAgent = {
    snap: {
      state: 'staged',
      bootedVersion: '20261101.0',
      bootedChecksum: 'a'.repeat(64),
      targetVersion: '20261127.0',
      stagedVersion: '20261127.0',
      lastCheckTimeMs: 1_795_000_000_000,
      strategy: 'periodic',
      statusText: 'update staged: 20261127.0; reboot pending due to update strategy',
      healthVerdict: 'rolled_back',
      healthFailedChecks: [{ name: 'unit:web.service', outputTail: 'connection refused\n' }],
    },
    calls: [],
    updateNowError: null,
    snapshot: () => a.snap,
    checkNow: () => {
      a.calls.push('checkNow');
      return Promise.resolve();
    },
    updateNow: () => {
      a.calls.push('updateNow');
      return a.updateNowError ? Promise.reject(a.updateNowError) : Promise.resolve();
    },
  };
  return a;
}

function capture(env: NodeJS.ProcessEnv = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, env, stdout: (s) => out.push(s), stderr: (s) => err.push(s) };
}

async function gdbusAsNobody(address: string, method: string, ...args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const r = await exec(NOBODY[0]!, [...NOBODY.slice(1), 'gdbus', 'call', '--address', address, '--dest', UPDATED1.name, '--object-path', UPDATED1.path, '--method', method, ...args]);
    return { ok: true, output: r.stdout };
  } catch (err: unknown) {
    return { ok: false, output: String((err as { stderr?: unknown }).stderr) };
  }
}

describe('agent/operator/dbus-service on a permissive private bus', () => {
  let bus: PrivateBus;
  let agent: FakeAgent;
  let service: OperatorService;

  beforeAll(async () => {
    bus = await startPrivateBus();
    agent = fakeAgent();
    service = await startOperatorService({ busAddress: bus.address, port: agent, logger: memoryLogger() });
  });
  afterAll(async () => {
    await service.close();
    await bus.stop();
  });

  it('implements exactly the members declared in docs/org.altlinux.Updated1.xml', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'org.altlinux.Updated1.xml'), 'utf8');
    const client = dbus.sessionBus({ busAddress: bus.address });
    try {
      const reply = await client.call(
        new dbus.Message({ destination: UPDATED1.name, path: UPDATED1.path, interface: 'org.freedesktop.DBus.Introspectable', member: 'Introspect' }),
      );
      const live = String(reply?.body[0]);
      const members = (xml: string): string[] => {
        const ifaceXml = xml.slice(xml.indexOf(`<interface name="${UPDATED1.iface}"`));
        const body = ifaceXml.slice(0, ifaceXml.indexOf('</interface>'));
        const props = [...body.matchAll(/<property name="(\w+)" type="([^"]+)" access="(\w+)"/g)].map((m) => `P ${m[1]} ${m[2]} ${m[3]}`);
        const methods = [...body.matchAll(/<method name="(\w+)"/g)].map((m) => `M ${m[1]}`);
        return [...props, ...methods].sort();
      };
      expect(members(doc)).toHaveLength(12);
      expect(members(live)).toEqual(members(doc));
    } finally {
      client.disconnect();
    }
  });

  it('prints the properties for people and as JSON', async () => {
    const io = capture();
    // An empty root: no configuration, no health record yet.
    const root = await mkdtemp(join(tmpdir(), 'status-root-'));
    expect(await runStatus(['--bus-address', bus.address, '--root', root], io)).toBe(0);
    expect(io.out.join('\n')).toBe(
      [
        'State:      staged',
        'Status:     update staged: 20261127.0; reboot pending due to update strategy',
        'Strategy:   periodic',
        'Booted:     20261101.0',
        `Checksum:   ${'a'.repeat(64)}`,
        'Target:     20261127.0',
        'Staged:     20261127.0',
        'Last check: 2026-11-18 11:06:40 UTC',
        'Health:     never judged',
      ].join('\n'),
    );
    const json = capture({ DBUS_SYSTEM_BUS_ADDRESS: bus.address });
    expect(await runStatus(['--json', '--root', root], json)).toBe(0);
    expect(JSON.parse(json.out.join(''))).toEqual({
      state: 'staged',
      status_text: 'update staged: 20261127.0; reboot pending due to update strategy',
      strategy: 'periodic',
      booted_version: '20261101.0',
      booted_checksum: 'a'.repeat(64),
      target_version: '20261127.0',
      staged_version: '20261127.0',
      last_check_time: '2026-11-18T11:06:40.000Z',
      health_verdict: 'rolled_back',
      health_failed_checks: [{ name: 'unit:web.service', output_tail: 'connection refused\n' }],
      health: { last_verdict: null, last_release: null, last_reason: null, last_time: null, failed_checks: [], trial: null, manual_intervention: null, failed_releases: [] },
      health_error: null,
    });
  });

  it('shows the health verdict from D-Bus when the health record cannot be read', async () => {
    const io = capture();
    const root = await mkdtemp(join(tmpdir(), 'status-root-'));
    await mkdir(join(root, 'etc/alt-updated/config.d'), { recursive: true });
    await writeFile(join(root, 'etc/alt-updated/config.d/10-bad.toml'), '[health\n');
    expect(await runStatus(['--bus-address', bus.address, '--root', root], io)).toBe(0);
    const out = io.out.join('\n');
    expect(out).toMatch(/^Health: +rolled_back\n {2}failed: +unit:web\.service: connection refused\nRecord: +unavailable \(.*10-bad\.toml/m);
  });

  it('emits PropertiesChanged with only the changed values on publish', async () => {
    const client = dbus.sessionBus({ busAddress: bus.address });
    try {
      const obj = await client.getProxyObject(UPDATED1.name, UPDATED1.path);
      const props = obj.getInterface('org.freedesktop.DBus.Properties');
      const got = new Promise<[string, Record<string, { value: unknown }>, string[]]>((resolve) =>
        props.on('PropertiesChanged', (i: string, c: Record<string, { value: unknown }>, inv: string[]) => resolve([i, c, inv])),
      );
      // Round trip so the match rule is in place before we publish.
      await props.Get!(UPDATED1.iface, 'State');
      service.publish(); // nothing changed: no signal
      agent.snap = { ...agent.snap, state: 'finalized', statusText: 'update finalized: 20261127.0', lastCheckTimeMs: 1_795_000_600_000 };
      service.publish();
      const [iface, changed, invalidated] = await got;
      expect(iface).toBe(UPDATED1.iface);
      expect(Object.fromEntries(Object.entries(changed).map(([k, v]) => [k, v.value]))).toEqual({
        State: 'finalized',
        StatusText: 'update finalized: 20261127.0',
        LastCheckTime: 1_795_000_600n,
      });
      expect(invalidated).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  it('runs CheckNow and UpdateNow for root and reports agent failures with their code', async () => {
    agent.calls = [];
    const check = capture();
    expect(await runCheck(['--bus-address', bus.address], check)).toBe(0);
    agent.updateNowError = new AltError('AGENT_NOTHING_STAGED', 'no update is staged');
    const upd = capture();
    expect(await runUpdateNow(['--bus-address', bus.address], upd)).toBe(1);
    expect(upd.err.join('')).toBe('alt-updatectl update-now: AGENT_NOTHING_STAGED: no update is staged');
    agent.updateNowError = null;
    expect(await runUpdateNow(['--bus-address', bus.address], capture())).toBe(0);
    expect(agent.calls).toEqual(['checkNow', 'updateNow', 'updateNow']);
  });

  it('refuses method calls from non-root callers in code, even when the bus policy lets them through', async () => {
    agent.calls = [];
    const r = await gdbusAsNobody(bus.address, `${UPDATED1.iface}.CheckNow`);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('org.freedesktop.DBus.Error.AccessDenied');
    expect(r.output).toContain('uid 65534 may not call');
    expect(agent.calls).toEqual([]);
    const read = await gdbusAsNobody(bus.address, 'org.freedesktop.DBus.Properties.Get', UPDATED1.iface, 'Strategy');
    expect(read).toEqual({ ok: true, output: "(<'periodic'>,)\n" });
  });

  it('exits 1 from the CLI, saying to run as root, when a non-root user calls a method', async () => {
    const cli = join(ROOT, 'dist', 'src', 'cli', 'main.js');
    const res = await exec(NOBODY[0]!, [...NOBODY.slice(1), process.execPath, cli, 'update-now', '--bus-address', bus.address]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(res.stderr).toMatch(/access denied: .*\(run as root\)/);
    expect(res.code).toBe(1);
  });

  it('fails with a typed error when the bus is unreachable', async () => {
    await expect(startOperatorService({ busAddress: 'unix:path=/nonexistent/bus.sock', port: fakeAgent(), logger: memoryLogger() })).rejects.toMatchObject({
      code: 'OPERATOR_DBUS',
    });
  });

  it('refuses a second owner of the name with a typed error', async () => {
    await expect(startOperatorService({ busAddress: bus.address, port: fakeAgent(), logger: memoryLogger() })).rejects.toMatchObject({ code: 'OPERATOR_DBUS' });
  });

  it('exits 1 naming the cause when no agent owns the name, or the bus is unreachable', async () => {
    const other = await startPrivateBus();
    try {
      const io = capture();
      expect(await runStatus(['--bus-address', other.address], io)).toBe(1);
      expect(io.err.join('')).toContain('the agent is not running');
    } finally {
      await other.stop();
    }
    const gone = capture();
    expect(await runCheck(['--bus-address', 'unix:path=/nonexistent/bus.sock'], gone)).toBe(1);
    expect(gone.err.join('')).toContain('cannot connect to the unix:path=/nonexistent/bus.sock bus');
  });

  it('rejects unknown flags as usage errors', async () => {
    await expect(runStatus(['--jsn'], capture())).rejects.toThrow(/usage: alt-updatectl status/);
  });
});

// The shipped policy, with the service user swapped for root (no alt-updated user on this machine),
// under a default policy shaped like the stock system bus (deny method calls unless allowed).
describe('systemd/dbus-1/system.d/org.altlinux.Updated1.conf', () => {
  let bus: PrivateBus;
  let agent: FakeAgent;
  let service: OperatorService;

  beforeAll(async () => {
    const policy = (await readFile(join(ROOT, 'systemd', 'dbus-1', 'system.d', 'org.altlinux.Updated1.conf'), 'utf8'))
      .replace(/<\?xml[^>]*\?>.*\n/, '')
      .replace(/<!DOCTYPE[^>]*>/, '')
      .replace(/<\/?busconfig>/g, '')
      .replace('policy user="alt-updated"', 'policy user="root"');
    bus = await startPrivateBus({
      permissive: false,
      extraConfig: `${SYSTEM_BUS_DEFAULT_POLICY}
  ${policy}`,
    });
    agent = fakeAgent();
    service = await startOperatorService({ busAddress: bus.address, port: agent, logger: memoryLogger() });
  });
  afterAll(async () => {
    await service.close();
    await bus.stop();
  });

  it('lets anyone read properties and introspect', async () => {
    const r = await gdbusAsNobody(bus.address, 'org.freedesktop.DBus.Properties.GetAll', UPDATED1.iface);
    expect(r.ok).toBe(true);
    expect(r.output).toContain("'StagedVersion': <'20261127.0'>");
    const intro = await exec(NOBODY[0]!, [...NOBODY.slice(1), 'gdbus', 'introspect', '--address', bus.address, '--dest', UPDATED1.name, '--object-path', UPDATED1.path]);
    expect(intro.stdout).toContain('readonly t LastCheckTime');
  });

  it('denies method calls to non-root at the bus, before the agent sees them', async () => {
    agent.calls = [];
    const r = await gdbusAsNobody(bus.address, `${UPDATED1.iface}.UpdateNow`);
    expect(r.ok).toBe(false);
    expect(r.output).toContain('Rejected send message');
    expect(agent.calls).toEqual([]);
  });

  it('lets root call the methods', async () => {
    agent.calls = [];
    expect(await runCheck(['--bus-address', bus.address], capture())).toBe(0);
    expect(agent.calls).toEqual(['checkNow']);
  });
});
