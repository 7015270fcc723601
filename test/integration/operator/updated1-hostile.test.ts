// org.altlinux.Updated1 against callers that send the wrong arguments (issue 12): every exported or
// standard member answers InvalidArgs once, nothing reaches the agent, and no reply carries a stack.
import dbus from 'dbus-next';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { startOperatorService, UPDATED1, type OperatorService } from '../../../src/agent/operator/dbus-service.js';
import type { OperatorPort } from '../../../src/agent/operator/snapshot.js';
import { startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';

const INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs';
const PROPS = 'org.freedesktop.DBus.Properties';

/** Calls with a signature the member does not take: [label, interface, member, signature, body]. */
const WRONG_SIGNATURES: [string, string, string, string, unknown[]][] = [
  ['CheckNow with a string', UPDATED1.iface, 'CheckNow', 's', ['now']],
  ['UpdateNow with a boolean', UPDATED1.iface, 'UpdateNow', 'b', [true]],
  ['Properties.GetAll without arguments', PROPS, 'GetAll', '', []],
  ['Properties.GetAll with an int', PROPS, 'GetAll', 'u', [1]],
  ['Properties.Get with one string', PROPS, 'Get', 's', [UPDATED1.iface]],
  ['Properties.Set without a value', PROPS, 'Set', 'ss', [UPDATED1.iface, 'State']],
  ['Introspectable.Introspect with an argument', 'org.freedesktop.DBus.Introspectable', 'Introspect', 's', ['x']],
];

describe('org.altlinux.Updated1 with hostile input', () => {
  let bus: PrivateBus;
  let service: OperatorService;
  let client: dbus.MessageBus;
  const calls: string[] = [];
  const port: OperatorPort = {
    snapshot: () => ({
      state: 'idle',
      bootedVersion: '1',
      bootedChecksum: 'a'.repeat(64),
      targetVersion: null,
      stagedVersion: null,
      lastCheckTimeMs: null,
      strategy: 'immediate',
      statusText: 'idle',
      healthVerdict: null,
      healthFailedChecks: [],
    }),
    checkNow: () => {
      calls.push('checkNow');
      return Promise.resolve();
    },
    updateNow: () => {
      calls.push('updateNow');
      return Promise.resolve();
    },
  };

  beforeAll(async () => {
    bus = await startPrivateBus();
    service = await startOperatorService({ busAddress: bus.address, port, logger: memoryLogger() });
    client = dbus.sessionBus({ busAddress: bus.address });
  });
  afterAll(async () => {
    client.disconnect();
    await service.close();
    await bus.stop();
  });

  /** Sends one call and collects every reply to it, up to the reply of a Ping sent right after. */
  async function callAndCollect(iface: string, member: string, signature: string, body: unknown[]): Promise<{ name: string; text: string }[]> {
    const replies: dbus.Message[] = [];
    const call = new dbus.Message({ destination: UPDATED1.name, path: UPDATED1.path, interface: iface, member, signature, body });
    const collect = (msg: dbus.Message): void => {
      if (String(msg.replySerial) === String(call.serial)) replies.push(msg);
    };
    client.on('message', collect);
    try {
      await client.call(call).catch(() => undefined);
      // The service answers in order: once the Ping is answered, a second reply would have come.
      await client.call(new dbus.Message({ destination: UPDATED1.name, path: UPDATED1.path, interface: 'org.freedesktop.DBus.Peer', member: 'Ping' }));
    } finally {
      client.off('message', collect);
    }
    return replies.map((m) => ({ name: m.errorName ?? 'answered', text: String(m.body[0] ?? '') }));
  }

  it('answers every call with a wrong signature with one InvalidArgs and runs nothing', async () => {
    const got: Record<string, string> = {};
    for (const [what, iface, member, signature, body] of WRONG_SIGNATURES) {
      got[what] = (await callAndCollect(iface, member, signature, body)).map((r) => r.name).join(', ');
    }
    expect(got).toEqual(Object.fromEntries(WRONG_SIGNATURES.map(([what]) => [what, INVALID_ARGS])));
    expect(calls).toEqual([]);
  });

  it('refuses writing a read-only property with a single error that carries no stack', async () => {
    const replies = await callAndCollect(PROPS, 'Set', 'ssv', [UPDATED1.iface, 'State', new dbus.Variant('s', 'idle')]);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.name).toBe('org.freedesktop.DBus.Error.PropertyReadOnly');
    expect(replies[0]!.text).not.toMatch(/\n\s+at /);
  });
});
