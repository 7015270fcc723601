// Spawns the built CLI (`node dist/src/cli/main.js`) on temporary roots and checks stdout JSON,
// stderr lines and exit codes, as an operator or a check script would see them.
import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ETC, RUN, USR, tempRoot, type Tree } from '../../unit/config/fs-tree.js';

const CLI = new URL('../../../dist/src/cli/main.js', import.meta.url).pathname;
const SHIPPED = new URL('../../../systemd/config.d', import.meta.url).pathname;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});
async function root(tree: Tree, shipped = false): Promise<string> {
  const r = await tempRoot(tree);
  cleanups.push(r.cleanup);
  if (shipped) await cp(SHIPPED, join(r.root, USR), { recursive: true });
  return r.root;
}

const PERIODIC = `[updates]
strategy = "periodic"
[updates.periodic]
time_zone = "Europe/Moscow"
[[updates.periodic.window]]
days = [ "sunday", "SAT", "tuesday" ]
start_time = "7:5"
length_minutes = 60
`;

describe('alt-updatectl config show', () => {
  it('prints the merged settings as JSON with TOML names, normalised windows and fragments', async () => {
    const r = await root({ [`${ETC}/55-periodic.toml`]: PERIODIC, [`${RUN}/60-lock.toml`]: '[updates.fleet_lock]\ntoken = "t0ken"\n' }, true);
    const { code, stdout, stderr } = await cli(['config', 'show', '--root', r, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      agent: { timing: { steady_interval_secs: 300, staged_interval_secs: 300, postponement_interval_secs: 60 }, metrics: { listen: null } },
      cincinnati: { base_url: null, ca_file: null },
      identity: { group: 'default', node_uuid: null, rollout_wariness: null, stream: null },
      updates: {
        enabled: true,
        allow_downgrade: false,
        strategy: 'periodic',
        max_stage_attempts: 12,
        abandon_secs: 86400,
        fleet_lock: { base_url: null, token: '<redacted>', ca_file: null, client_cert_file: null, client_key_file: null },
        periodic: { time_zone: 'Europe/Moscow', window: [{ days: ['Tue', 'Sat', 'Sun'], start_time: '07:05', length_minutes: 60 }] },
      },
      health: { enabled: true, required_units: [], check_timeout_secs: 60, boot_attempts: 2, state_dir: '/var/lib/alt-updated' },
      fragments: [
        `${r}/${USR}/10-agent.toml`,
        `${r}/${USR}/10-auto-updates.toml`,
        `${r}/${USR}/10-identity.toml`,
        `${r}/${USR}/30-updates-strategy.toml`,
        `${r}/${USR}/50-altcos-cincinnati.toml`,
        `${r}/${ETC}/55-periodic.toml`,
        `${r}/${RUN}/60-lock.toml`,
      ],
    });
  });

  it('prints human-readable text by default', async () => {
    const r = await root({ [`${ETC}/55-periodic.toml`]: PERIODIC });
    const { code, stdout } = await cli(['config', 'show', '--root', r]);
    expect(code).toBe(0);
    expect(stdout).toContain('updates.strategy = "periodic"');
    expect(stdout).toContain('updates.periodic.window[0] = Tue,Sat,Sun 07:05 for 60 min');
    expect(stdout).toContain(`  ${r}/${ETC}/55-periodic.toml`);
  });

  it('accepts a window with days = [] beside a valid one and says it opens nothing (Zincati accepts it)', async () => {
    const empty = '[[updates.periodic.window]]\ndays = []\nstart_time = "1:00"\nlength_minutes = 10\n';
    const r = await root({ [`${ETC}/55-periodic.toml`]: PERIODIC, [`${ETC}/56-empty.toml`]: empty });
    const { code, stdout } = await cli(['config', 'show', '--root', r]);
    expect(code).toBe(0);
    expect(stdout).toContain('updates.periodic.window[1] = (no days, opens no window) 01:00 for 10 min');
  });

  it('warns on stderr about unknown keys and ignored files, and fails with --strict', async () => {
    const r = await root({ [`${ETC}/10-a.toml`]: '[identity]\ngrup = "x"\n', [`${ETC}/20-b.conf`]: '' });
    const lax = await cli(['config', 'show', '--root', r, '--json']);
    expect(lax.code).toBe(0);
    expect(lax.stderr.trim().split('\n')).toEqual([
      `alt-updatectl config: warning: ${r}/${ETC}/20-b.conf: ignored: only *.toml files are read`,
      `alt-updatectl config: warning: ${r}/${ETC}/10-a.toml:2: unknown key 'identity.grup'`,
    ]);
    const strict = await cli(['config', 'show', '--root', r, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe('');
    expect(strict.stderr.trim().split('\n')).toHaveLength(1);
    expect(strict.stderr).toContain('fatal with --strict');
  });

  it('exits 1 with one stderr line naming file and key for an invalid value', async () => {
    // 40- sorts after the shipped 30-updates-strategy.toml, so this strategy wins the merge.
    const r = await root({ [`${ETC}/40-s.toml`]: '[updates]\nstrategy = "fleet_lock"\n' }, true);
    const { code, stdout, stderr } = await cli(['config', 'show', '--root', r, '--json']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`alt-updatectl config: ${r}/${ETC}/40-s.toml: updates.fleet_lock.base_url: expected an http(s) URL because updates.strategy is "fleet_lock", got nothing\n`);
  });

  it('exits 1 naming file and line for a TOML syntax error', async () => {
    const r = await root({ [`${ETC}/30-s.toml`]: '[updates\n' });
    const { code, stderr } = await cli(['config', 'show', '--root', r]);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^alt-updatectl config: ${r}/${ETC}/30-s\\.toml:1:\\d+: invalid TOML: .+\\n$`));
  });

  it.each([[['config']], [['config', 'list']], [['config', 'show', '--bogus']], [['config', 'show', '--root']], [['config', 'show', 'extra']]])(
    'exits 2 on bad usage: %j',
    async (args) => {
      const { code, stderr } = await cli(args);
      expect(code).toBe(2);
      expect(stderr).toContain('usage: alt-updatectl config show');
    },
  );
});

describe('alt-updatectl identity', () => {
  const host: Tree = {
    'etc/machine-id': '2e074e9b299c41a59923c51ae16f279b\n',
    'etc/os-release': 'NAME="ALT Server"\nID=altlinux\nALT_BRANCH_ID="p11"\n',
    'proc/cmdline': 'BOOT_IMAGE=/vmlinuz ignition.platform.id=qemu\n',
  };

  it('prints the identity as JSON with the source of each field', async () => {
    const r = await root(host, true);
    const { code, stdout, stderr } = await cli(['identity', '--root', r, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as Record<string, { value: unknown; source: string }>;
    expect(json['node_uuid']).toMatchObject({ value: '074c268827d74fb59ed758e8940cd667', source: 'machine-id' });
    expect(json['group']).toMatchObject({ value: 'default', source: 'config' });
    expect(json['basearch']?.source).toBe('runtime');
    expect(json['basearch']?.value).toMatch(/^(x86_64|aarch64|ppc64le|s390x|riscv64|i686|armh)$/);
    expect(json['platform']).toMatchObject({ value: 'qemu', source: 'cmdline' });
    expect(json['stream']).toMatchObject({ value: 'p11', source: 'os-release' });
    expect(json['rollout_wariness']).toMatchObject({ value: null, source: 'default' });
    expect(Object.keys(json)).toEqual(['node_uuid', 'group', 'basearch', 'platform', 'stream', 'rollout_wariness']);
  });

  it('prints one human line per field by default', async () => {
    const r = await root(host);
    const { code, stdout } = await cli(['identity', '--root', r]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^node_uuid\s+074c268827d74fb59ed758e8940cd667\s+\(machine-id: .*etc\/machine-id\)$/m);
    expect(stdout).toMatch(/^stream\s+p11\s+\(os-release: .*ALT_BRANCH_ID\)$/m);
  });

  it('exits 1 with one stderr line on a non-ALT host without identity.stream', async () => {
    const r = await root({ ...host, 'etc/os-release': 'ID=fedora\n' });
    const { code, stdout, stderr } = await cli(['identity', '--root', r, '--json']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^alt-updatectl identity: .*etc\/os-release: not ALT Linux .*set identity.stream to run here\n$/);
  });

  it('exits 1 when the configuration is invalid', async () => {
    const r = await root({ ...host, [`${ETC}/10-id.toml`]: '[identity]\ngroup = "bad_group"\n' });
    const { code, stderr } = await cli(['identity', '--root', r]);
    expect(code).toBe(1);
    expect(stderr).toContain('identity.group: expected a group matching');
  });

  it('exits 2 on a bad flag', async () => {
    const { code } = await cli(['identity', '--strict']);
    expect(code).toBe(2);
  });
});
