import { PassThrough } from 'node:stream';
import dbus from 'dbus-next';
import { marshallMessage } from 'dbus-next/lib/marshall-compat.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFixedHeader, readMessages, SPEC_MAX_MESSAGE_BYTES, type RawMessage } from '../../../src/dbus/framing.js';

/** Feeds `chunks` to readMessages and collects what it reports, after the stream has drained. */
async function feed(chunks: Buffer[]): Promise<{ messages: RawMessage[]; bad: string[] }> {
  const stream = new PassThrough();
  const messages: RawMessage[] = [];
  const bad: string[] = [];
  readMessages(stream, (m) => messages.push(m), (e) => bad.push(`${e.code}: ${e.message}`));
  for (const c of chunks) stream.write(c);
  stream.end();
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return { messages, bad };
}

function wire(msg: dbus.Message): Buffer {
  return marshallMessage(msg)[0];
}

describe('src/dbus/framing readMessages', () => {
  it('reads well-formed messages, also split across chunks at every byte', async () => {
    const a = new dbus.Message({ serial: 7, path: '/a', interface: 'x.Y', member: 'Go', signature: 'sa{sv}', body: ['hi', { k: new dbus.Variant('u', 3) }] });
    const b = new dbus.Message({ serial: 8, path: '/', interface: 'org.freedesktop.DBus.Peer', member: 'Ping' });
    const bytes = Buffer.concat([wire(a), wire(b)]);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const { messages, bad } = await feed([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(bad).toEqual([]);
      expect(messages.map((m) => [m.serial, m.member, m.signature])).toEqual([
        [7, 'Go', 'sa{sv}'],
        [8, 'Ping', undefined],
      ]);
    }
  });

  it('refuses a header announcing more than the spec maximum before reading it', () => {
    const h = wire(new dbus.Message({ serial: 1, path: '/', member: 'M' })).subarray(0, 16);
    h.writeUInt32LE(SPEC_MAX_MESSAGE_BYTES, 4);
    expect(() => parseFixedHeader(h, SPEC_MAX_MESSAGE_BYTES)).toThrow(/DBUS_BAD_MESSAGE|limit/);
  });

  it('never throws on arbitrary bytes: every input is read, waited for, or reported once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { maxLength: 6 }), async (chunks) => {
        const { bad } = await feed(chunks.map((c) => Buffer.from(c)));
        expect(bad.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on mutated well-formed messages', async () => {
    const good = wire(new dbus.Message({ serial: 3, path: '/o', interface: 'a.B', member: 'C', signature: 'a(sv)', body: [[['k', new dbus.Variant('s', 'v')]]] }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), async (edits) => {
        const bytes = Buffer.from(good);
        for (const [at, v] of edits) bytes[at] = v;
        const { messages, bad } = await feed([bytes]);
        expect(messages.length + bad.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
