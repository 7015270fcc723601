// Server side of the D-Bus SASL handshake, EXTERNAL only, for peer-to-peer sockets.
// Spec: https://dbus.freedesktop.org/doc/dbus-specification.html#auth-protocol
import type { Duplex } from 'node:stream';
import readOneLine from 'dbus-next/lib/readline.js';
import { DBusAdapterError } from './errors.js';

/** Options of {@link serverHandshake}. */
export interface ServerHandshakeOptions {
  /** Server GUID sent in `OK <guid>` (32 hex digits). */
  readonly guid: string;
  /** Decides whether the uid a client claims with EXTERNAL is accepted. */
  readonly allowUid: (uid: number) => boolean;
  /** Gives up (and rejects) when the client has not sent BEGIN within this many ms. */
  readonly timeoutMs: number;
}

const MAX_LINE = 16_384;

/** Decodes EXTERNAL's initial response (hex of the ASCII decimal uid); null when malformed. */
export function decodeExternalUid(hex: string): number | null {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) return null;
  const text = Buffer.from(hex, 'hex').toString('latin1');
  if (!/^\d{1,10}$/.test(text)) return null;
  const uid = Number(text);
  return uid <= 0xffffffff ? uid : null;
}

/**
 * Runs the server half of SASL on a freshly accepted socket and resolves after the client's BEGIN,
 * leaving every byte after BEGIN unread (lines are read one byte at a time).
 *
 * Dialogue: the client's NUL byte; `AUTH` alone or another mechanism -> `REJECTED EXTERNAL`;
 * `AUTH EXTERNAL <hex uid>` -> `OK <guid>` when the uid is allowed; `AUTH EXTERNAL` without an initial
 * response -> `DATA`, then `DATA [hex uid]` (empty = "the uid of my socket", accepted because Node
 * cannot read SO_PEERCRED); `NEGOTIATE_UNIX_FD` -> `ERROR` (no fd passing); `CANCEL`/`ERROR` ->
 * `REJECTED EXTERNAL`; `BEGIN` after OK ends it. The claimed uid is not verified by the kernel, so this
 * is no security boundary: protect the socket with its directory's permissions.
 */
export function serverHandshake(stream: Duplex, opts: ServerHandshakeOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let first = true;
    let authed = false;
    let waitingData = false;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onClose = (): void => finish(new DBusAdapterError('DBUS_AUTH_FAILED', 'peer closed the socket during authentication'));
    const timer = setTimeout(
      () => finish(new DBusAdapterError('DBUS_AUTH_FAILED', `peer did not authenticate within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    stream.on('close', onClose);

    const send = (line: string): void => {
      stream.write(`${line}\r\n`);
    };
    const accept = (uid: number | null): void => {
      if (uid !== null && !opts.allowUid(uid)) {
        send('REJECTED EXTERNAL');
        return;
      }
      authed = true;
      send(`OK ${opts.guid}`);
    };
    const onLine = (buf: Buffer): void => {
      if (done) return;
      let line = buf.toString('latin1');
      if (first) {
        first = false;
        if (!line.startsWith('\0')) {
          finish(new DBusAdapterError('DBUS_AUTH_FAILED', 'peer did not start with the NUL byte'));
          return;
        }
        line = line.slice(1);
      }
      if (line.length > MAX_LINE) {
        finish(new DBusAdapterError('DBUS_AUTH_FAILED', 'authentication line too long'));
        return;
      }
      line = line.replace(/\r$/, '');
      const [cmd = '', ...args] = line.split(' ');
      if (cmd === 'BEGIN' && authed) {
        finish();
        return;
      }
      handle(cmd, args);
      readNext();
    };
    const handle = (cmd: string, args: string[]): void => {
      if (cmd === 'AUTH') {
        waitingData = false;
        if (args[0] !== 'EXTERNAL' || authed) {
          send('REJECTED EXTERNAL');
        } else if (args[1] === undefined || args[1] === '') {
          waitingData = true;
          send('DATA');
        } else {
          const uid = decodeExternalUid(args[1]);
          if (uid === null) send('REJECTED EXTERNAL');
          else accept(uid);
        }
      } else if (cmd === 'DATA' && waitingData) {
        waitingData = false;
        const hex = args[0] ?? '';
        if (hex === '') accept(null);
        else {
          const uid = decodeExternalUid(hex);
          if (uid === null) send('REJECTED EXTERNAL');
          else accept(uid);
        }
      } else if (cmd === 'NEGOTIATE_UNIX_FD' && authed) {
        send('ERROR "unix fd passing is not supported"');
      } else if (cmd === 'CANCEL' || cmd === 'ERROR') {
        waitingData = false;
        authed = false;
        send('REJECTED EXTERNAL');
      } else {
        send('ERROR "unknown command"');
      }
    };
    // readOneLine only wakes up on 'readable'; a client that pipelines several lines in one packet
    // leaves them buffered with no further event, so nudge the reader when bytes are waiting.
    const readNext = (): void => {
      readOneLine(stream, onLine);
      if (stream.readableLength > 0) process.nextTick(() => stream.emit('readable'));
    };
    readNext();
  });
}
