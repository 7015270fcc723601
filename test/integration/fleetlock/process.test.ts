// alt-fleetlockd as a process (built dist/): SIGKILL and restart with both stores, slot changes on
// restart and SIGHUP, quick-start flags, configuration errors, TLS with a self-signed certificate.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import { FleetLockError } from '../../../src/fleetlock/errors.js';
import { startEtcd, type EtcdCluster } from '../../helpers/etcd.js';
import { etcdHistory, freshPrefix, journalHistory } from './harness.js';
import { runServerToExit, spawnServer, type Spawned } from './spawn.js';

const run = promisify(execFile);
let etcd: EtcdCluster;
let dir: string;
const running: Spawned[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function start(args: string[]): Promise<Spawned> {
  const s = await spawnServer(args);
  running.push(s);
  return s;
}

type Store = { kind: 'embedded' } | { kind: 'etcd'; prefix: string };

function configToml(store: Store, slots: number, extra = ''): string {
  const storeToml =
    store.kind === 'embedded'
      ? `[store]\ntype = "embedded"\nstate_dir = "${join(dir, 'state')}"\n`
      : `[store]\ntype = "etcd"\n[store.etcd]\nendpoints = ${JSON.stringify(etcd.endpoints)}\nprefix = "${store.prefix}"\n`;
  return `listen = "127.0.0.1:0"\n${extra}\n${storeToml}\n[groups.default]\nslots = ${slots}\n`;
}

async function writeConfig(store: Store, slots: number, extra = ''): Promise<string> {
  const path = join(dir, 'config.toml');
  await writeFile(path, configToml(store, slots, extra));
  return path;
}

const holdersHistory = (store: Store): Promise<string[][]> =>
  store.kind === 'embedded' ? journalHistory(join(dir, 'state'), 'default') : etcdHistory(etcd.endpoints, `${store.prefix}/groups/default`);

const kindOf = (p: Promise<unknown>): Promise<string | null> => p.then(() => null, (e: unknown) => (e instanceof FleetLockError ? e.kind : String(e)));

describe.each([
  { name: 'embedded', store: (): Store => ({ kind: 'embedded' }) },
  { name: 'etcd', store: (): Store => ({ kind: 'etcd', prefix: freshPrefix() }) },
])('alt-fleetlockd process with the $name store', ({ store: mkStore }) => {

  it('keeps a granted slot across SIGKILL and restart, and unlock after the restart frees it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetlockd-proc-'));
    const store = mkStore();
    const cfg = await writeConfig(store, 1);
    const first = await start(['--config', cfg]);
    await createFleetLockClient({ baseUrl: first.url }).preReboot({ id: 'a', group: 'default' });
    expect(await first.stop('SIGKILL')).toBeNull();
    const second = await start(['--config', cfg]);
    const c = createFleetLockClient({ baseUrl: second.url });
    expect(await kindOf(c.preReboot({ id: 'b', group: 'default' }))).toBe('failed_lock_semaphore_full');
    await c.steadyState({ id: 'a', group: 'default' });
    await c.preReboot({ id: 'b', group: 'default' });
  });

  it('never loses an acknowledged slot nor exceeds the slots when killed during a lock/unlock storm', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetlockd-proc-'));
    const store = mkStore();
    const cfg = await writeConfig(store, 2);
    const srv = await start(['--config', cfg]);
    const dispatcher = new Agent({ connections: 64 });
    const c = createFleetLockClient({ baseUrl: srv.url, dispatcher, timeoutMs: 5000 });
    // known[id] = true: the last acknowledged operation was a granted lock and no unlock was sent since.
    const known = new Map<string, boolean>();
    let stop = false;
    let acked = 0;
    const worker = async (id: string): Promise<void> => {
      while (!stop) {
        try {
          await c.preReboot({ id, group: 'default' });
        } catch {
          continue;
        }
        known.set(id, true);
        acked += 1;
        if (stop) return;
        known.set(id, false); // unlock about to be sent: outcome unknown if the server dies now
        await c.steadyState({ id, group: 'default' }).catch(() => undefined);
      }
    };
    const workers = Array.from({ length: 40 }, (_, i) => worker(`w${i}`));
    const until = Date.now() + 20_000;
    while (acked < 30 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(acked).toBeGreaterThanOrEqual(30);
    await srv.stop('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await dispatcher.close();
    const held = [...known].filter(([, v]) => v).map(([id]) => id);
    const restarted = await start(['--config', cfg]);
    const hist = await holdersHistory(store);
    const final = hist.at(-1) ?? [];
    expect(Math.max(0, ...hist.map((h) => h.length))).toBeLessThanOrEqual(2);
    for (const id of held) expect(final).toContain(id);
    // The restarted server agrees with the store: exactly 2 - |final| newcomers fit.
    const c2 = createFleetLockClient({ baseUrl: restarted.url });
    const results = await Promise.all(['x1', 'x2', 'x3'].map((id) => kindOf(c2.preReboot({ id, group: 'default' }))));
    expect(results.filter((k) => k === null)).toHaveLength(2 - final.length);
  });

  it('applies a changed slot count after a restart and after SIGHUP', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetlockd-proc-'));
    const store = mkStore();
    const cfg = await writeConfig(store, 1);
    const first = await start(['--config', cfg]);
    let c = createFleetLockClient({ baseUrl: first.url });
    await c.preReboot({ id: 'a', group: 'default' });
    expect(await kindOf(c.preReboot({ id: 'b', group: 'default' }))).toBe('failed_lock_semaphore_full');
    await first.stop('SIGTERM');
    await writeConfig(store, 2);
    const second = await start(['--config', cfg]);
    c = createFleetLockClient({ baseUrl: second.url });
    await c.preReboot({ id: 'b', group: 'default' });
    expect(await kindOf(c.preReboot({ id: 'c', group: 'default' }))).toBe('failed_lock_semaphore_full');
    await writeConfig(store, 3);
    second.child.kill('SIGHUP');
    for (let i = 0; i < 1500 && !second.output().includes('event=config_reloaded'); i++) await new Promise((r) => setTimeout(r, 20));
    await c.preReboot({ id: 'c', group: 'default' });
  });
});

describe('alt-fleetlockd command line', () => {
  it('starts from --listen/--group/--state-dir, survives SIGHUP and stops cleanly on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetlockd-proc-'));
    const s = await start(['--listen', '127.0.0.1:0', '--group', 'default=1', '--group', 'db=2', '--state-dir', join(dir, 's')]);
    const c = createFleetLockClient({ baseUrl: s.url });
    s.child.kill('SIGHUP'); // nothing to reload without a file, but it must not stop the server
    // Waits for the event (the log line), with a deadline a loaded machine cannot hit by accident.
    for (let i = 0; i < 1500 && !s.output().includes('SIGHUP ignored'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(s.output()).toContain('SIGHUP ignored');
    await c.preReboot({ id: 'a', group: 'db' });
    await c.preReboot({ id: 'b', group: 'db' });
    expect(await kindOf(c.preReboot({ id: 'c', group: 'db' }))).toBe('failed_lock_semaphore_full');
    expect(await s.stop('SIGTERM')).toBe(0);
    expect(await readFile(join(dir, 's', 'fleetlock.journal'), 'utf8')).toContain('"group":"db"');
  });

  it('survives a SIGHUP sent the moment it starts listening', async () => {
    // SIGHUP's default action is to exit; the handler used to be installed just after the
    // 'listening' line, so a reload right after start often killed the server.
    dir = await mkdtemp(join(tmpdir(), 'fleetlockd-proc-'));
    for (let i = 0; i < 5; i++) {
      const s = await start(['--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', join(dir, `s${i}`)]);
      s.child.kill('SIGHUP');
      for (let t = 0; t < 1500 && !s.output().includes('SIGHUP ignored') && s.child.exitCode === null && s.child.signalCode === null; t++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(s.child.signalCode).toBeNull();
      expect(s.output()).toContain('SIGHUP ignored');
      expect(await s.stop('SIGTERM')).toBe(0);
    }
  });

  it('exits 2 naming the file and key for an invalid configuration', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetlockd-proc-'));
    const path = join(dir, 'bad.toml');
    await writeFile(path, '[groups.default]\nslotz = 2\n');
    const r = await runServerToExit(['--config', path]);
    expect(r.code).toBe(2);
    expect(r.output).toContain(`${path}: 'groups.default.slotz': unknown key`);
    expect((await runServerToExit(['--group', 'bad name=1'])).code).toBe(2);
    expect((await runServerToExit([])).code).toBe(2);
  });

  it('refuses to share a state directory with a running server', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetlockd-proc-'));
    await start(['--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', join(dir, 's')]);
    const r = await runServerToExit(['--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', join(dir, 's')]);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/in use by process \d+/);
  });

  it('starts although a stale pid file in the state directory names a live foreign process', async () => {
    // Before: a pid file in the (reboot-surviving) state directory; a reused pid, or EPERM from a
    // process of another user, kept the server from ever starting (a restart loop under systemd).
    dir = await mkdtemp(join(tmpdir(), 'fleetlockd-proc-'));
    const state = join(dir, 's');
    await mkdir(state, { recursive: true });
    for (const pid of [process.pid, 1]) {
      await writeFile(join(state, 'alt-fleetlockd.pid'), `${pid}\n`);
      const s = await start(['--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', state]);
      await createFleetLockClient({ baseUrl: s.url }).preReboot({ id: `a${pid}`, group: 'default' }).catch(() => undefined);
      expect(await s.stop('SIGKILL')).toBeNull();
    }
    // The lock left by the SIGKILLed server is not held by anyone either.
    const again = await start(['--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', state]);
    expect(await kindOf(createFleetLockClient({ baseUrl: again.url }).preReboot({ id: 'b', group: 'default' }))).toBe('failed_lock_semaphore_full');
  });

  it('serves TLS from key and certificate files (self-signed certificate made by openssl)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetlockd-proc-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    const cfg = join(dir, 'tls.toml');
    await writeFile(cfg, `listen = "127.0.0.1:0"\n[tls]\ncert_file = "${cert}"\nkey_file = "${key}"\n[store]\nstate_dir = "${join(dir, 's')}"\n[groups.default]\nslots = 1\n`);
    const s = await start(['--config', cfg]);
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    const ca = await readFile(cert);
    const c = createFleetLockClient({ baseUrl: s.url, ca });
    await c.preReboot({ id: 'a', group: 'default' });
    await c.close();
    // Without the CA the certificate is rejected: no silent downgrade to trusting anything.
    const untrusted = createFleetLockClient({ baseUrl: s.url });
    expect(await kindOf(untrusted.preReboot({ id: 'a', group: 'default' }))).toBe('client_failed_request');
  });
});
