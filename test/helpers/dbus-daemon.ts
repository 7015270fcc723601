// A private dbus-daemon for integration tests: temp config, unix:path socket, EXTERNAL auth, a
// permissive policy (`extraConfig` can add <include>/<policy> for tests of a real policy file).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackProcess } from './scope.js';

/** A running private bus. */
export interface PrivateBus {
  /** `unix:path=...,guid=...` as printed by dbus-daemon. */
  readonly address: string;
  /** The daemon's pid. */
  readonly pid: number;
  /** Kills the daemon and removes its directory. */
  stop(): Promise<void>;
}

/** Options of {@link startPrivateBus}. */
export interface PrivateBusOptions {
  /** Bus type written into the config (default `system`, like the host bus alt-ostreed uses). */
  readonly type?: 'system' | 'session';
  /** Raw XML appended inside <busconfig> (e.g. `<include>/path/to/policy.conf</include>`). */
  readonly extraConfig?: string;
  /** Replace the permissive default policy (only `extraConfig` policies then apply). */
  readonly permissive?: boolean;
}

const PERMISSIVE = `
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>`;

/** Starts `dbus-daemon --nofork` on a socket in a fresh temp dir and resolves with its address. */
export async function startPrivateBus(opts: PrivateBusOptions = {}): Promise<PrivateBus> {
  const dir = await mkdtemp(join(tmpdir(), 'alt-bus-'));
  // Other uids (tests of unauthorised callers) must reach the socket.
  await chmod(dir, 0o755);
  const socket = join(dir, 'bus.sock');
  const config = join(dir, 'bus.conf');
  await writeFile(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>${opts.type ?? 'system'}</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  ${opts.permissive === false ? '' : PERMISSIVE}
  ${opts.extraConfig ?? ''}
</busconfig>
`,
  );
  const child = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackProcess(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dbus-daemon did not print its address: ${stderr}`));
    }, 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited with ${String(code)}: ${stderr}`));
    });
  });
  return {
    address,
    pid: child.pid ?? -1,
    stop: async () => {
      await killAndWait(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Sends SIGTERM, escalates to SIGKILL after 5 s, and resolves once `child` has exited. */
export async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The default part of Debian's system.conf (connect and talk to the bus driver, no method calls
 * unless a policy allows them): put before a shipped policy with `permissive: false`.
 */
export const SYSTEM_BUS_DEFAULT_POLICY = `
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>`;
