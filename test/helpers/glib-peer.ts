// Runs test/helpers/glib-peer.py (GLib peer-to-peer server or client written like rpm-ostree's).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killAndWait } from './dbus-daemon.js';
import { trackProcess } from './scope.js';

const SCRIPT = fileURLToPath(new URL('./glib-peer.py', import.meta.url));
/** The reference XML vendored in src/ostree. */
export const RPMOSTREE_XML = fileURLToPath(new URL('../../src/ostree/rpmostree1.xml', import.meta.url));
/** python3-gi lives in the system Python, not in the pyenv one on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** A running GLib GDBusServer exporting a Transaction at `/`. */
export interface GlibPeerServer {
  /** The client address it printed (`g_dbus_server_get_client_address`). */
  readonly address: string;
  /** JSON events it printed so far (method calls, connections, closes). */
  readonly events: Record<string, unknown>[];
  /** Resolves when an event matching `pred` has been printed. */
  waitFor(pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>;
  /** Kills it (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

/** Starts the GLib transaction server on `socket`. */
export async function startGlibPeerServer(socket: string, finish: 'success' | 'fail' | 'never' = 'success'): Promise<GlibPeerServer> {
  const child = spawn(SYSTEM_PYTHON, [SCRIPT, 'server', '--xml', RPMOSTREE_XML, '--socket', socket, '--finish', finish]);
  trackProcess(child);
  const events: Record<string, unknown>[] = [];
  const waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let buf = '';
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`glib-peer server did not start: ${stderr}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`glib-peer server exited ${String(code)}: ${stderr}`)));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ADDRESS ')) {
          clearTimeout(timer);
          resolve(line.slice('ADDRESS '.length));
        } else if (line.startsWith('EVENT ')) {
          const e = JSON.parse(line.slice('EVENT '.length)) as Record<string, unknown>;
          events.push(e);
          for (const w of waiters.filter((x) => x.pred(e))) w.resolve();
        }
      }
    });
  });
  return {
    address,
    events,
    waitFor: (pred, timeoutMs = 10_000) =>
      events.some(pred)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no matching glib event; got ${JSON.stringify(events)}`)), timeoutMs);
            waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
          }),
    stop: () => killAndWait(child),
  };
}

/** What the GLib client saw. */
export interface GlibClientResult {
  readonly unique_name: string | null;
  readonly guid: string;
  readonly title: string | null;
  readonly started: boolean;
  readonly signals: { name: string; sender: string | null; args: unknown }[];
  readonly timeout?: boolean;
}

/** Runs the GLib client (rpm-ostree clientlib style) against `address` and returns what it saw. */
export function runGlibPeerClient(address: string): Promise<GlibClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, [SCRIPT, 'client', '--xml', RPMOSTREE_XML, '--address', address]);
    trackProcess(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`glib-peer client exited ${String(code)}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as GlibClientResult);
    });
  });
}
