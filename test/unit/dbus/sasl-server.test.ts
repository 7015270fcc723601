import { Duplex, PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeExternalUid, serverHandshake } from '../../../src/dbus/sasl-server.js';

const GUID = '0123456789abcdef0123456789abcdef';
const hexUid = (uid: number): string => Buffer.from(String(uid), 'ascii').toString('hex');

/** An in-memory socket: `input` feeds the server, `written` collects what it answers. */
function memorySocket(): { socket: Duplex; input: PassThrough; written: () => string[] } {
  const input = new PassThrough();
  const out: string[] = [];
  const socket = new Duplex({
    read() {
      /* fed through input below */
    },
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString('latin1').replace(/\r\n$/, ''));
      cb();
    },
  });
  input.on('data', (d: Buffer) => socket.push(d));
  return { socket, input, written: () => out };
}

async function dialogue(lines: string[], allow: number[]): Promise<{ result: 'ok' | string; replies: string[]; rest: string }> {
  const { socket, input, written } = memorySocket();
  const p = serverHandshake(socket, { guid: GUID, allowUid: (u) => allow.includes(u), timeoutMs: 5_000 });
  input.write(Buffer.from('\0' + lines.map((l) => `${l}\r\n`).join('') + 'BINARY', 'latin1'));
  let result: string;
  try {
    // Every reply is produced within a few ticks of the input; 20 turns of the event loop is plenty.
    let turns = Promise.resolve();
    for (let i = 0; i < 20; i++) turns = turns.then(() => new Promise<void>((r) => setImmediate(r)));
    await Promise.race([p, turns.then(() => Promise.reject(new Error('pending')))]);
    result = 'ok';
  } catch (e: unknown) {
    result = (e as Error).message;
  }
  const rest = (socket.read() as Buffer | null)?.toString('latin1') ?? '';
  socket.destroy();
  return { result, replies: written(), rest };
}

describe('src/dbus/sasl-server', () => {
  it('decodes EXTERNAL uids and rejects malformed ones (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (uid) => decodeExternalUid(hexUid(uid)) === uid));
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = decodeExternalUid(s);
        return r === null || (Number.isInteger(r) && r >= 0);
      }),
    );
    expect(decodeExternalUid('')).toBeNull();
    expect(decodeExternalUid('3')).toBeNull();
    expect(decodeExternalUid('zz')).toBeNull();
    expect(decodeExternalUid(Buffer.from('-1').toString('hex'))).toBeNull();
  });

  it.each([
    { name: 'EXTERNAL with the uid inline (dbus-next, libdbus)', lines: [`AUTH EXTERNAL ${hexUid(0)}`, 'BEGIN'], replies: [`OK ${GUID}`] },
    { name: 'mechanism probe then EXTERNAL (GLib)', lines: ['AUTH', `AUTH EXTERNAL ${hexUid(0)}`, 'BEGIN'], replies: ['REJECTED EXTERNAL', `OK ${GUID}`] },
    { name: 'EXTERNAL without initial response, empty DATA', lines: ['AUTH EXTERNAL', 'DATA', 'BEGIN'], replies: ['DATA', `OK ${GUID}`] },
    { name: 'EXTERNAL then DATA with uid', lines: ['AUTH EXTERNAL', `DATA ${hexUid(0)}`, 'BEGIN'], replies: ['DATA', `OK ${GUID}`] },
    { name: 'unix fd negotiation refused', lines: [`AUTH EXTERNAL ${hexUid(0)}`, 'NEGOTIATE_UNIX_FD', 'BEGIN'], replies: [`OK ${GUID}`, 'ERROR "unix fd passing is not supported"'] },
    { name: 'other mechanisms rejected', lines: ['AUTH ANONYMOUS', `AUTH EXTERNAL ${hexUid(0)}`, 'BEGIN'], replies: ['REJECTED EXTERNAL', `OK ${GUID}`] },
  ])('accepts $name and leaves the bytes after BEGIN unread', async ({ lines, replies }) => {
    const r = await dialogue(lines, [0]);
    expect(r.result).toBe('ok');
    expect(r.replies).toEqual(replies);
    expect(r.rest).toBe('BINARY');
  });

  it('rejects a uid that is not allowed and never sends OK', async () => {
    const r = await dialogue([`AUTH EXTERNAL ${hexUid(1000)}`, 'BEGIN'], [0]);
    expect(r.replies).toEqual(['REJECTED EXTERNAL', 'ERROR "unknown command"']);
    expect(r.result).toBe('pending');
  });

  it('fails with DBUS_AUTH_FAILED when the NUL byte is missing', async () => {
    const { socket, input } = memorySocket();
    const p = serverHandshake(socket, { guid: GUID, allowUid: () => true, timeoutMs: 5_000 });
    input.write('AUTH EXTERNAL 30\r\n');
    await expect(p).rejects.toMatchObject({ code: 'DBUS_AUTH_FAILED' });
    socket.destroy();
  });

  it('fails with DBUS_AUTH_FAILED when the peer closes mid-handshake', async () => {
    const { socket } = memorySocket();
    const p = serverHandshake(socket, { guid: GUID, allowUid: () => true, timeoutMs: 5_000 });
    socket.destroy();
    await expect(p).rejects.toMatchObject({ code: 'DBUS_AUTH_FAILED' });
  });
});
