// Exclusive ownership of the embedded store's state directory, held by a listening unix socket in
// it. The socket's listener dies with the process (SIGKILL, OOM, reboot), so unlike a pid file the
// lock can never outlive its owner: a connect() that is refused proves the owner is gone, whatever
// pid now exists. (Node has no flock(2); this is the same guarantee without it.)
//
// Taking it is race-free between two starting servers: the socket is bound at a private temporary
// name and hard-linked to LOCK_SOCKET, and link(2) fails atomically when the name exists. A stale
// socket is moved aside with rename(2) and checked to be the one found stale; a live lock moved by
// mistake (another server replaced the stale one in between) is linked back.
import { randomBytes } from 'node:crypto';
import { link, rename, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { FleetLockStoreError } from '../errors.js';

/** The lock socket's name inside the state directory. */
export const LOCK_SOCKET = 'alt-fleetlockd.lock';
/** The pid file earlier versions kept there; removed on start, never trusted. */
const LEGACY_PID_FILE = 'alt-fleetlockd.pid';

/** A held directory lock. */
export interface DirLock {
  /** Stops listening and removes the lock socket (only if it is still this process's); idempotent. */
  release(): Promise<void>;
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/** Longest unix socket path (sun_path holds 108 bytes with the NUL); libuv silently truncates longer ones. */
const MAX_SOCKET_PATH = 107;

/** Connects to a lock socket: the owner's pid when it answers, 'stale' when nobody listens. */
function probe(path: string): Promise<number | 'stale'> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let text = '';
    sock.setEncoding('utf8');
    sock.setTimeout(2000, () => sock.destroy());
    sock.on('data', (d: string) => (text += d));
    sock.on('close', () => resolve(Number.parseInt(text, 10) || 0));
    sock.on('error', (err) => {
      if (errno(err) === 'ECONNREFUSED' || errno(err) === 'ENOENT') resolve('stale');
      else if (text === '') reject(err);
    });
  });
}

function listenAt(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Whoever connects learns the owner's pid, for the "in use by process N" message.
    const server = createServer((c) => c.end(`${process.pid}\n`));
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

const inUse = (dir: string, pid: number): FleetLockStoreError =>
  new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `state directory ${dir} is in use by ${pid > 0 ? `process ${pid}` : 'another process'}`);

/** Takes the lock of `dir`, or rejects with `FLEETLOCKD_STORE_UNAVAILABLE` when a live process holds it. */
export async function takeDirLock(dir: string): Promise<DirLock> {
  const lockPath = join(dir, LOCK_SOCKET);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = join(dir, `.lock-${tag}`);
  if (Buffer.byteLength(temp) > MAX_SOCKET_PATH) {
    const max = MAX_SOCKET_PATH - (Buffer.byteLength(temp) - Buffer.byteLength(dir));
    throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `state directory ${dir} is too long for its lock socket: at most ${max} bytes`);
  }
  let server: Server;
  try {
    server = await listenAt(temp);
  } catch (err: unknown) {
    throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `cannot create the lock socket ${temp}`, { cause: err });
  }
  const ours = (await stat(temp)).ino;
  const fail = async (err: unknown): Promise<never> => {
    await new Promise<void>((r) => server.close(() => r()));
    await rm(temp, { force: true });
    throw err;
  };
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, lockPath);
        break;
      } catch (err: unknown) {
        if (errno(err) !== 'EEXIST') throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `cannot create ${lockPath}`, { cause: err });
      }
      const found = await stat(lockPath).catch(() => null);
      const owner = found === null ? 'stale' : await probe(lockPath);
      if (owner !== 'stale') throw inUse(dir, owner);
      if (attempt >= 3) throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `cannot take ${lockPath}: it keeps changing`);
      if (found === null) continue;
      // Left by a process that died: move it aside, and put it back if it was not the stale one.
      const aside = join(dir, `.stale-${tag}`);
      try {
        await rename(lockPath, aside);
      } catch (err: unknown) {
        if (errno(err) === 'ENOENT') continue;
        throw err;
      }
      if ((await stat(aside)).ino !== found.ino) await link(aside, lockPath).catch(() => undefined);
      await rm(aside, { force: true });
    }
  } catch (err: unknown) {
    return fail(err);
  }
  await rm(temp, { force: true });
  await rm(join(dir, LEGACY_PID_FILE), { force: true });
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await new Promise<void>((r) => server.close(() => r()));
      const now = await stat(lockPath).catch(() => null);
      if (now?.ino === ours) await rm(lockPath, { force: true });
    },
  };
}
