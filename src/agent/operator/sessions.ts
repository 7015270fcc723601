// Interactive user sessions and shutdown inhibitors, from logind over D-Bus
// (org.freedesktop.login1 on the system bus). Not `loginctl` output: its JSON changed shape twice
// and broke Zincati (fedora-coreos-tracker#1547, #1780). dbus-next types stay in this file.
//
// Fail direction (decided by the agent, not here): a failed session check means "proceed"; this
// adapter only reports the failure as a typed SessionProbeError.
import dbus, { type MessageBus } from 'dbus-next';
import { SessionProbeError } from './errors.js';

/** One logind session, in domain terms. */
export interface UserSession {
  /** logind session id, e.g. `3` or `c1`. */
  readonly id: string;
  /** User name. */
  readonly user: string;
  /** User id. */
  readonly uid: number;
  /** tty device name below /dev (`pts/0`, `tty1`), or null when the session has none. */
  readonly tty: string | null;
  /** `user`, `greeter`, `lock-screen`, `background`, `manager`, ... */
  readonly class: string;
  /** `tty`, `x11`, `wayland`, `mir`, `web`, `unspecified`. */
  readonly type: string;
  /** Whether the session is remote (ssh and the like). */
  readonly remote: boolean;
  /** `online`, `active` or `closing`. */
  readonly state: string;
}

/** A held systemd inhibitor lock. */
export interface Inhibitor {
  /** What it inhibits, e.g. `shutdown`, `sleep`, `idle`. */
  readonly what: readonly string[];
  /** Who holds it (program name). */
  readonly who: string;
  /** Why, as given by the holder. */
  readonly why: string;
  /** `block` or `delay`. */
  readonly mode: string;
  /** Holder uid. */
  readonly uid: number;
  /** Holder pid. */
  readonly pid: number;
}

/** What the agent asks before finalizing (a reboot). */
export interface SessionProbe {
  /** Sessions whose users would be cut off by a reboot (see {@link isInteractive}). */
  interactiveSessions(): Promise<UserSession[]>;
  /** Block-mode inhibitors covering shutdown: while one is held the backend refuses to reboot. */
  shutdownBlockers(): Promise<Inhibitor[]>;
  /** Disconnects from the bus. */
  close(): void;
}

const INTERACTIVE_TYPES = new Set(['tty', 'x11', 'wayland', 'mir']);

/**
 * A person is (or may be) at this session: a `user`-class session on a terminal or a graphical
 * display, or a remote one. Greeters, lock screens, `manager`/`background` sessions and sessions
 * already `closing` (the user logged out, processes linger) do not count.
 */
export function isInteractive(s: UserSession): boolean {
  if (s.class !== 'user' || s.state === 'closing') return false;
  return INTERACTIVE_TYPES.has(s.type) || s.remote;
}

/** logind reports "no tty" as `""`; older tools said `n/a`. */
export function normaliseTty(tty: string): string | null {
  return tty === '' || tty === 'n/a' ? null : tty;
}

/** True for block-mode inhibitors whose `what` includes `shutdown`. */
export function blocksShutdown(i: Inhibitor): boolean {
  return i.mode === 'block' && i.what.includes('shutdown');
}

const LOGIN1 = { name: 'org.freedesktop.login1', path: '/org/freedesktop/login1', manager: 'org.freedesktop.login1.Manager', session: 'org.freedesktop.login1.Session' } as const;
// The session went away between ListSessions and GetAll: not an error, just not a session any more.
const VANISHED = new Set(['org.freedesktop.DBus.Error.UnknownObject', 'org.freedesktop.login1.NoSuchSession', 'org.freedesktop.DBus.Error.UnknownMethod']);

function isArrayOf<T>(v: unknown, item: (x: unknown) => x is T): v is T[] {
  return Array.isArray(v) && v.every(item);
}
const isSessionRow = (x: unknown): x is [string, number, string, string, string] =>
  Array.isArray(x) && x.length === 5 && typeof x[0] === 'string' && typeof x[1] === 'number' && typeof x[2] === 'string' && typeof x[4] === 'string';
const isInhibitorRow = (x: unknown): x is [string, string, string, string, number, number] =>
  Array.isArray(x) && x.length === 6 && x.slice(0, 4).every((s) => typeof s === 'string') && typeof x[4] === 'number' && typeof x[5] === 'number';

function prop<T>(dict: Record<string, { signature?: string; value?: unknown } | undefined>, name: string, sig: string, path: string): T {
  const v = dict[name];
  if (v?.signature !== sig) throw new SessionProbeError(`logind session ${path}: property ${name} missing or not of type '${sig}'`);
  return v.value as T;
}

/**
 * A probe over logind (null = system bus, `DBUS_SYSTEM_BUS_ADDRESS` honoured). It connects on first
 * use and, after a connection failure, again on the next call: a restarted dbus-daemon costs one
 * failed check, not every check until the agent restarts.
 */
export function createLogindProbe(opts: { busAddress: string | null }): SessionProbe {
  let conn: { bus: MessageBus; broken: Promise<never> } | null = null;

  const connect = (): { bus: MessageBus; broken: Promise<never> } => {
    if (conn) return conn;
    const bus = opts.busAddress === null ? dbus.systemBus() : dbus.sessionBus({ busAddress: opts.busAddress });
    const broken = new Promise<never>((_, reject) =>
      bus.on('error', (e: unknown) => {
        if (conn?.bus === bus) conn = null;
        bus.disconnect();
        reject(e instanceof Error ? e : new Error(String(e)));
      }),
    );
    broken.catch(() => undefined);
    conn = { bus, broken };
    return conn;
  };

  const call = async (path: string, iface: string, member: string, signature = '', body: unknown[] = []): Promise<unknown> => {
    const { bus, broken } = connect();
    const reply = await Promise.race([bus.call(new dbus.Message({ destination: LOGIN1.name, path, interface: iface, member, signature, body })), broken]);
    return reply?.body[0];
  };

  const session = async (row: [string, number, string, string, string]): Promise<UserSession | null> => {
    const [id, uid, user, , path] = row;
    let raw: unknown;
    try {
      raw = await call(path, 'org.freedesktop.DBus.Properties', 'GetAll', 's', [LOGIN1.session]);
    } catch (err: unknown) {
      if (VANISHED.has(String((err as { type?: unknown }).type))) return null;
      throw err;
    }
    if (typeof raw !== 'object' || raw === null) throw new SessionProbeError(`logind session ${path}: GetAll reply is not a dictionary`);
    const d = raw as Record<string, { signature?: string; value?: unknown } | undefined>;
    return {
      id,
      uid,
      user,
      tty: normaliseTty(prop<string>(d, 'TTY', 's', path)),
      class: prop<string>(d, 'Class', 's', path),
      type: prop<string>(d, 'Type', 's', path),
      remote: prop<boolean>(d, 'Remote', 'b', path),
      state: prop<string>(d, 'State', 's', path),
    };
  };

  const wrap = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err: unknown) {
      if (err instanceof SessionProbeError) throw err;
      const text = (err as { text?: unknown }).text;
      throw new SessionProbeError(`failed to ${what} from logind: ${typeof text === 'string' ? text : err instanceof Error ? err.message : String(err)}`, err);
    }
  };

  return {
    interactiveSessions: () =>
      wrap('list sessions', async () => {
        const rows = await call(LOGIN1.path, LOGIN1.manager, 'ListSessions');
        if (!isArrayOf(rows, isSessionRow)) throw new SessionProbeError('logind ListSessions: reply is not a(susso)');
        const all = await Promise.all(rows.map(session));
        return all.filter((s): s is UserSession => s !== null && isInteractive(s));
      }),
    shutdownBlockers: () =>
      wrap('list inhibitors', async () => {
        const rows = await call(LOGIN1.path, LOGIN1.manager, 'ListInhibitors');
        if (!isArrayOf(rows, isInhibitorRow)) throw new SessionProbeError('logind ListInhibitors: reply is not a(ssssuu)');
        return rows
          .map(([what, who, why, mode, uid, pid]) => ({ what: what.split(':').filter((w) => w !== ''), who, why, mode, uid, pid }))
          .filter(blocksShutdown);
      }),
    close: () => {
      conn?.bus.disconnect();
      conn = null;
    },
  };
}
