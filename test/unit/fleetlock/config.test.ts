import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseServerArgs } from '../../../src/fleetlock/server/args.js';
import { parseConfigText, parseListen } from '../../../src/fleetlock/server/config.js';

const FULL = `
listen = "127.0.0.1:8443"
admin_token = "adm"
sweep_interval_secs = 10
[tls]
cert_file = "/etc/alt-fleetlockd/tls.crt"
key_file = "/etc/alt-fleetlockd/tls.key"
[store]
type = "etcd"
[store.etcd]
endpoints = ["http://10.0.0.1:2379", "https://10.0.0.2:2379"]
prefix = "/fleet/"
timeout_ms = 2000
[groups.default]
slots = 2
[groups."db.eu-1"]
slots = 1
token = "t0k"
stale_after_secs = 3600
halt_after_failures = 2
halt_window_secs = 7200
[[groups."db.eu-1".windows]]
days = ["Saturday", "sun", "Sat"]
start_time = "1:30"
length_minutes = 90
`;

describe('src/fleetlock/server/config', () => {
  it('validates a complete file into the config', () => {
    const c = parseConfigText(FULL, '/etc/alt-fleetlockd/config.toml');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(c.tls).toEqual({ certFile: '/etc/alt-fleetlockd/tls.crt', keyFile: '/etc/alt-fleetlockd/tls.key' });
    expect(c.adminToken).toBe('adm');
    expect(c.sweepIntervalMs).toBe(10_000);
    expect(c.store).toEqual({
      kind: 'etcd',
      endpoints: ['http://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      prefix: '/fleet',
      timeoutMs: 2000,
      tls: { caFile: null, certFile: null, keyFile: null },
      auth: null,
    });
    expect(c.groups.get('default')).toEqual({ name: 'default', slots: 2, token: null, staleAfterMs: null, windows: [], halt: { afterFailures: null, windowMs: 86_400_000 } });
    expect(c.groups.get('db.eu-1')).toEqual({
      name: 'db.eu-1',
      slots: 1,
      token: 't0k',
      staleAfterMs: 3_600_000,
      windows: [{ days: ['Sat', 'Sun'], startMinutes: 90, lengthMinutes: 90 }],
      halt: { afterFailures: 2, windowMs: 7_200_000 },
    });
  });

  it.each([
    ['halt_after_failures = -1', "'groups.default.halt_after_failures': must be an integer in 0..1000000"],
    ['halt_after_failures = 1.5', "'groups.default.halt_after_failures': must be an integer"],
    ['halt_window_secs = 0', "'groups.default.halt_window_secs': must be an integer in 1..31536000"],
    ['halt_after = 1', "'groups.default.halt_after': unknown key"],
  ])('refuses a bad halt policy (%s), naming the key', (line, message) => {
    expect(() => parseConfigText(`[groups.default]\n${line}\n`, '/c.toml')).toThrow(message);
  });

  it('reads halt_after_failures = 0 as never halting', () => {
    expect(parseConfigText('[groups.default]\nhalt_after_failures = 0\n', '/c.toml').groups.get('default')!.halt.afterFailures).toBeNull();
  });

  it('reads the client CA of the listener and the TLS and user settings of the etcd store', () => {
    const c = parseConfigText(
      `[tls]
cert_file = "/t.crt"
key_file = "/t.key"
client_ca_file = "/clients.crt"
[store]
type = "etcd"
[store.etcd]
endpoints = ["https://127.0.0.1:2379"]
ca_file = "/etcd-ca.crt"
cert_file = "/etcd-client.crt"
key_file = "/etcd-client.key"
username = "fleetlock"
password_file = "/etcd-password"
[groups.a]
`,
      'f.toml',
    );
    expect(c.tls).toEqual({ certFile: '/t.crt', keyFile: '/t.key', clientCaFile: '/clients.crt' });
    expect(c.store).toMatchObject({
      tls: { caFile: '/etcd-ca.crt', certFile: '/etcd-client.crt', keyFile: '/etcd-client.key' },
      auth: { username: 'fleetlock', passwordFile: '/etcd-password' },
    });
  });

  it('defaults to loopback, the embedded store and no admin API', () => {
    const c = parseConfigText('[groups.default]\n', 'f.toml');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 9473 });
    expect(c.store).toEqual({ kind: 'embedded', stateDir: '/var/lib/alt-fleetlockd' });
    expect(c.adminToken).toBeNull();
    expect(c.groups.get('default')?.slots).toBe(1);
  });

  it.each([
    ['listen = "nope"\n[groups.a]', "f.toml: 'listen': 'nope' is not HOST:PORT"],
    ['[groups.a]\nslots = 0', "f.toml: 'groups.a.slots': must be an integer in 1..1000000"],
    ['[groups.a]\nslots = "2"', "'groups.a.slots': must be an integer"],
    ['[groups.a]\nslotz = 2', "f.toml: 'groups.a.slotz': unknown key"],
    ['[groups."a b"]', "'groups.a b': group names must match"],
    ['bogus = 1\n[groups.a]', "f.toml: 'bogus': unknown key"],
    ['', "f.toml: 'groups': at least one group is required"],
    ['[groups.a]\ntoken = ""', "'groups.a.token': must be a non-empty string"],
    ['[tls]\ncert_file = "c"\n[groups.a]', "'tls': needs both cert_file and key_file"],
    ['[store]\ntype = "redis"\n[groups.a]', "'store.type': must be 'embedded' or 'etcd'"],
    ['[store]\ntype = "etcd"\n[groups.a]', "'store.etcd.endpoints': must be a non-empty list"],
    ['[store]\ntype = "etcd"\n[store.etcd]\nendpoints = ["ftp://x"]\n[groups.a]', "'store.etcd.endpoints[0]': must be an http"],
    ['[groups.a]\n[[groups.a.windows]]\ndays = ["Funday"]\nstart_time = "01:00"\nlength_minutes = 5', "'groups.a.windows[0].days': 'Funday' is not a week day"],
    ['[groups.a]\n[[groups.a.windows]]\ndays = ["Mon"]\nstart_time = "25:00"\nlength_minutes = 5', "'groups.a.windows[0].start_time': must be 'HH:MM'"],
    ['[groups.a]\n[[groups.a.windows]]\ndays = ["Mon"]\nstart_time = "01:00"', "'groups.a.windows[0].length_minutes': is required"],
    ['[groups.a\n', 'f.toml: invalid TOML (line 1'],
    ['[tls]\ncert_file = "c"\nkey_file = "k"\nclient_ca = "x"\n[groups.a]', "f.toml: 'tls.client_ca': unknown key"],
    ['[store]\ntype = "etcd"\n[store.etcd]\nendpoints = ["https://x"]\ncert_file = "c"\n[groups.a]', "f.toml: 'store.etcd.key_file': cert_file and key_file go together"],
    ['[store]\ntype = "etcd"\n[store.etcd]\nendpoints = ["https://x"]\nkey_file = "k"\n[groups.a]', "f.toml: 'store.etcd.cert_file': cert_file and key_file go together"],
    ['[store]\ntype = "etcd"\n[store.etcd]\nendpoints = ["https://x"]\nusername = "u"\n[groups.a]', "f.toml: 'store.etcd.password_file': username and password_file go together"],
    ['[store]\ntype = "etcd"\n[store.etcd]\nendpoints = ["https://x"]\npassword = "p"\n[groups.a]', "f.toml: 'store.etcd.password': unknown key"],
  ])('rejects %j naming the key', (text, message) => {
    expect(() => parseConfigText(text, 'f.toml')).toThrow(message);
  });

  it('parses HOST:PORT and [IPv6]:PORT listen addresses (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.constantFrom('127.0.0.1', 'localhost', '[::1]'), (port, host) => {
        expect(parseListen(`${host}:${port}`)).toEqual({ host: host.replace(/[[\]]/g, ''), port });
      }),
    );
    expect(() => parseListen('127.0.0.1:65536')).toThrow();
    expect(() => parseListen('127.0.0.1')).toThrow();
  });
});

describe('src/fleetlock/server/args', () => {
  it('builds an embedded quick-start config from --listen, --group and --state-dir', () => {
    const a = parseServerArgs(['--listen', '127.0.0.1:0', '--group', 'default=1', '--group', 'db=3', '--state-dir', '/tmp/s', '--log-format', 'json']);
    expect(a.source).toEqual({ kind: 'flags' });
    expect(a.logFormat).toBe('json');
    expect(a.config.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(a.config.store).toEqual({ kind: 'embedded', stateDir: '/tmp/s' });
    expect([...a.config.groups.values()].map((g) => [g.name, g.slots])).toEqual([['default', 1], ['db', 3]]);
  });

  it.each([
    [[], 'either --config FILE or at least one --group'],
    [['--group', 'a'], "--group 'a': expected NAME=SLOTS"],
    [['--group', 'a=0'], 'expected NAME=SLOTS'],
    [['--group', 'a=1', '--group', 'a=2'], "--group 'a' given twice"],
    [['--config', 'x.toml', '--group', 'a=1'], '--config cannot be combined'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['--group', 'a=1', '--log-format', 'xml'], '--log-format must be journal or json'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseServerArgs(argv)).toThrow(message);
  });
});
