import { PassThrough } from 'node:stream';
import dbus from 'dbus-next';
import { marshallMessage } from 'dbus-next/lib/marshall-compat.js';
import { parseSignature } from 'dbus-next/lib/signature.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readMessages, type RawMessage } from '../../../src/dbus/framing.js';
import { validateSignature } from '../../../src/dbus/wire-reader.js';

/** Feeds one frame to readMessages and returns what it reported. */
async function feed(bytes: Buffer): Promise<{ messages: RawMessage[]; bad: string[] }> {
  const stream = new PassThrough();
  const messages: RawMessage[] = [];
  const bad: string[] = [];
  readMessages(stream, (m) => messages.push(m), (e) => bad.push(`${e.code}: ${e.message}`));
  stream.end(bytes);
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return { messages, bad };
}

/** Wire bytes of a method call carrying `body` with `signature`. */
function call(signature: string, body: unknown[]): Buffer {
  return Buffer.from(marshallMessage(new dbus.Message({ serial: 5, path: '/o', interface: 'a.B', member: 'M', signature, body }))[0]);
}

/** Replaces the first occurrence of `from` with `to` (same length) in `bytes`, at or after `start`. */
function patch(bytes: Buffer, from: string, to: string, start = 0): Buffer {
  const at = bytes.indexOf(Buffer.from(from, 'latin1'), start);
  expect(at).toBeGreaterThanOrEqual(0);
  bytes.write(to, at, 'latin1');
  return bytes;
}

/** Offset of the body in a little-endian frame. */
function bodyStart(bytes: Buffer): number {
  return 16 + (((bytes.readUInt32LE(12) + 7) >> 3) << 3);
}

describe('validateSignature: the specification grammar, not dbus-next lenient parser', () => {
  it.each(['', 's', 'a{sv}', 'a(sv)', '(ii)', 'aai', 'v', 'a{s(ii)}', 'ayss', `${'a'.repeat(32)}i`, `${'('.repeat(32)}i${')'.repeat(32)}`])(
    'accepts %j',
    (sig) => expect(() => validateSignature(sig)).not.toThrow(),
  );

  it.each([
    ['()', /empty struct/],
    ['a()', /empty struct/],
    ['a{}', /dict entry key/],
    ['{sv}', /cannot start a type here/],
    ['a{vs}', /dict entry key/],
    ['a{sss}', /exactly one key and one value/],
    ['a{s}', /'}' cannot start a type/],
    ['a', /unexpected end/],
    ['(i', /unexpected end/],
    ['z', /cannot start a type here/],
    [`${'a'.repeat(33)}i`, /33|more than 32 nested arrays/],
    [`${'('.repeat(33)}i${')'.repeat(33)}`, /more than 32 nested structs/],
    ['s'.repeat(256), /256 characters/],
  ])('refuses %j', (sig, why) => {
    expect(() => validateSignature(sig)).toThrow(why);
  });

  it('a variant must hold exactly one complete type', () => {
    expect(() => validateSignature('', true)).toThrow(/no type/);
    expect(() => validateSignature('ss', true)).toThrow(/more than one complete type/);
    expect(() => validateSignature('a{sv}', true)).not.toThrow();
  });

  it('every signature it accepts, dbus-next can parse (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ybnqiuxtdhsogva(){}z'), maxLength: 24 }), (sig) => {
        let ok = true;
        try {
          validateSignature(sig);
        } catch (err) {
          ok = false;
          expect((err as { code?: string }).code).toBe('DBUS_BAD_MESSAGE');
        }
        if (ok) expect(() => parseSignature(sig)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('readMessages refuses hostile bodies instead of looping until out of memory', () => {
  it('a body signature of empty structs (a()) is refused, not read forever', async () => {
    const bytes = patch(call('aay', [[Buffer.alloc(8, 1)]]), 'aay\0', 'a()\0');
    const { messages, bad } = await feed(bytes);
    expect(messages).toEqual([]);
    expect(bad).toEqual([expect.stringMatching(/^DBUS_BAD_MESSAGE: .*empty struct/)]);
  });

  it('a variant announcing empty structs inside the body is refused', async () => {
    const bytes = call('v', [new dbus.Variant('aay', [Buffer.alloc(8, 1)])]);
    patch(bytes, 'aay\0', 'a()\0', bodyStart(bytes));
    const { bad } = await feed(bytes);
    expect(bad).toEqual([expect.stringMatching(/^DBUS_BAD_MESSAGE: .*empty struct/)]);
  });

  it('an array announcing 4 GiB in a small message is refused', async () => {
    const bytes = call('a(y)', [[[1], [2]]]);
    bytes.writeUInt32LE(0xffffffff, bodyStart(bytes));
    const { bad } = await feed(bytes);
    expect(bad).toEqual([expect.stringMatching(/^DBUS_BAD_MESSAGE: .*an array of 4294967295 bytes/)]);
  });

  it('an array longer than the bytes present is refused', async () => {
    const bytes = call('a(y)', [[[1], [2]]]);
    bytes.writeUInt32LE(4096, bodyStart(bytes));
    const { bad } = await feed(bytes);
    expect(bad).toEqual([expect.stringMatching(/past the end of the message/)]);
  });

  it('variants nested beyond the limit are refused', async () => {
    let v: unknown = 's';
    for (let i = 0; i < 70; i++) v = new dbus.Variant(i === 0 ? 's' : 'v', v);
    const { bad } = await feed(call('v', [v]));
    expect(bad).toEqual([expect.stringMatching(/more than 64 nested variants/)]);
  });

  it('well-formed nested containers still read', async () => {
    const body = [{ k: new dbus.Variant('a(sv)', [['x', new dbus.Variant('u', 3)]]) }, [Buffer.from('ab')]];
    const { messages, bad } = await feed(call('a{sv}aay', body));
    expect(bad).toEqual([]);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.signature).toBe('a{sv}aay');
  });
});
