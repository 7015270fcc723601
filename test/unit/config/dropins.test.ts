import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/errors.js';
import { resolveDropins } from '../../../src/config/fragments.js';
import { ETC, RUN, USR, tempRoot, type Tree } from './fs-tree.js';

// One row per precedence / masking / merge rule, run against a real directory tree.
interface Row {
  rule: string;
  tree: Tree;
  /** Applied fragments, relative to the root, in merge order. */
  fragments?: string[];
  /** Expected effective values. */
  expect?: { group?: string; interval?: number; strategy?: string; windows?: number };
  /** Substrings of expected warnings (in order). */
  warnings?: string[];
  /** Expected error code under `strict` (default: not strict). */
  strictError?: string;
  error?: { code: string; message: RegExp };
}

const g = (name: string): string => `[identity]\ngroup = "${name}"\n`;
const win = (day: string): string => `[[updates.periodic.window]]\ndays = ["${day}"]\nstart_time = "1:00"\nlength_minutes = 30\n`;

const rows: Row[] = [
  { rule: 'no directories: defaults, no fragments', tree: {}, fragments: [], expect: { group: 'default', interval: 300, strategy: 'immediate' } },
  { rule: '/etc beats /usr/lib for the same file name', tree: { [`${USR}/10-a.toml`]: g('usr'), [`${ETC}/10-a.toml`]: g('etc') }, fragments: [`${ETC}/10-a.toml`], expect: { group: 'etc' } },
  { rule: '/etc beats /run for the same file name', tree: { [`${RUN}/10-a.toml`]: g('run'), [`${ETC}/10-a.toml`]: g('etc') }, fragments: [`${ETC}/10-a.toml`], expect: { group: 'etc' } },
  { rule: '/run beats /usr/lib for the same file name', tree: { [`${USR}/10-a.toml`]: g('usr'), [`${RUN}/10-a.toml`]: g('run') }, fragments: [`${RUN}/10-a.toml`], expect: { group: 'run' } },
  {
    rule: 'different names merge in file-name order regardless of directory',
    tree: { [`${USR}/20-b.toml`]: g('usr20'), [`${ETC}/10-a.toml`]: g('etc10'), [`${RUN}/15-c.toml`]: '[agent.timing]\nsteady_interval_secs = 60\n' },
    fragments: [`${ETC}/10-a.toml`, `${RUN}/15-c.toml`, `${USR}/20-b.toml`],
    expect: { group: 'usr20', interval: 60 },
  },
  { rule: 'a /dev/null symlink in /etc masks the /usr/lib file', tree: { [`${USR}/10-a.toml`]: g('usr'), [`${ETC}/10-a.toml`]: { link: '/dev/null' } }, fragments: [], expect: { group: 'default' } },
  {
    rule: 'a mask in /run is overridden by a real file in /etc',
    tree: { [`${USR}/10-a.toml`]: g('usr'), [`${RUN}/10-a.toml`]: { link: '/dev/null' }, [`${ETC}/10-a.toml`]: g('etc') },
    fragments: [`${ETC}/10-a.toml`],
    expect: { group: 'etc' },
  },
  { rule: 'a relative symlink to /dev/null masks too', tree: { [`${USR}/10-a.toml`]: g('usr'), [`${ETC}/10-a.toml`]: { link: '../../../../../../../../../../dev/null' } }, fragments: [], expect: { group: 'default' } },
  { rule: 'a mask in /usr/lib does not hide a /run file', tree: { [`${USR}/10-a.toml`]: { link: '/dev/null' }, [`${RUN}/10-a.toml`]: g('run') }, fragments: [`${RUN}/10-a.toml`], expect: { group: 'run' } },
  { rule: 'a mask only hides its own file name', tree: { [`${USR}/10-a.toml`]: g('a'), [`${USR}/20-b.toml`]: '', [`${ETC}/20-b.toml`]: { link: '/dev/null' } }, fragments: [`${USR}/10-a.toml`], expect: { group: 'a' } },
  { rule: 'dotfiles are ignored silently', tree: { [`${ETC}/.10-a.toml`]: g('dot'), [`${ETC}/.hidden`]: 'x' }, fragments: [], expect: { group: 'default' }, warnings: [] },
  {
    rule: 'a non-.toml file is ignored with a warning naming it',
    tree: { [`${ETC}/10-a.yaml`]: 'identity: {}', [`${ETC}/20-b.toml`]: g('b') },
    fragments: [`${ETC}/20-b.toml`],
    expect: { group: 'b' },
    warnings: [`${ETC}/10-a.yaml: ignored: only *.toml files are read`],
    strictError: 'CONFIG_STRICT',
  },
  { rule: 'a directory named *.toml is ignored with a warning', tree: { [`${ETC}/10-a.toml`]: { dir: true } }, fragments: [], warnings: [`${ETC}/10-a.toml: ignored: not a regular file`], strictError: 'CONFIG_STRICT' },
  { rule: 'a dangling symlink is ignored with a warning', tree: { [`${ETC}/10-a.toml`]: { link: '/nonexistent/x.toml' } }, fragments: [], warnings: ['not a regular file'] },
  {
    rule: 'a symlink to a regular file is followed',
    tree: { 'srv/real.toml': g('linked'), [`${ETC}/10-a.toml`]: { link: '../../../srv/real.toml' } },
    fragments: [`${ETC}/10-a.toml`],
    expect: { group: 'linked' },
  },
  {
    rule: 'scalars: the last fragment that sets a key wins; absent keys do not unset',
    tree: { [`${USR}/10-a.toml`]: `${g('first')}[agent.timing]\nsteady_interval_secs = 42\n`, [`${USR}/20-b.toml`]: g('second') },
    fragments: [`${USR}/10-a.toml`, `${USR}/20-b.toml`],
    expect: { group: 'second', interval: 42 },
  },
  {
    rule: 'windows accumulate across fragments and directories',
    tree: { [`${USR}/10-a.toml`]: `[updates]\nstrategy = "periodic"\n${win('Sat')}${win('Sun')}`, [`${ETC}/20-b.toml`]: win('Mon') },
    expect: { strategy: 'periodic', windows: 3 },
  },
  {
    rule: 'masking the file that defines windows removes them',
    tree: { [`${USR}/10-a.toml`]: win('Sat'), [`${USR}/20-b.toml`]: win('Sun'), [`${ETC}/10-a.toml`]: { link: '/dev/null' } },
    expect: { windows: 1 },
  },
  {
    rule: 'an unknown key warns with file, key and line',
    tree: { [`${ETC}/10-a.toml`]: '[identity]\ngroup = "x"\ngrup = "y"\n' },
    warnings: [`${ETC}/10-a.toml:3: unknown key 'identity.grup'`],
    strictError: 'CONFIG_STRICT',
  },
  {
    rule: 'the airlock#81 trap [[updates.fleet_lock.window]] warns',
    tree: { [`${ETC}/10-a.toml`]: '[[updates.fleet_lock.window]]\ndays = ["Sat"]\n' },
    warnings: ["unknown key 'updates.fleet_lock.window' (only [[updates.periodic.window]] exists)"],
  },
  { rule: 'a TOML syntax error names file and line', tree: { [`${ETC}/10-a.toml`]: '[identity]\ngroup = \n' }, error: { code: 'CONFIG_SYNTAX', message: /10-a\.toml:2:\d+: invalid TOML/ } },
  { rule: 'an invalid value anywhere means nothing is applied', tree: { [`${USR}/10-a.toml`]: g('ok'), [`${ETC}/20-b.toml`]: '[updates]\nstrategy = "weekly"\n' }, error: { code: 'CONFIG_INVALID', message: /20-b\.toml: updates\.strategy: expected one of/ } },
];

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe('config drop-in precedence, masking and merge (real directories)', () => {
  it.each(rows)('$rule', async (row) => {
    const { root, cleanup } = await tempRoot(row.tree);
    cleanups.push(cleanup);
    if (row.error) {
      const err = await loadSettings({ root }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe(row.error.code);
      expect((err as ConfigError).message).toMatch(row.error.message);
      expect((err as ConfigError).message).not.toContain('\n');
      return;
    }
    const loaded = await loadSettings({ root });
    if (row.fragments) expect(loaded.fragments).toEqual(row.fragments.map((f) => `${root}/${f}`));
    const s = loaded.settings;
    if (row.expect?.group !== undefined) expect(s.identity.group).toBe(row.expect.group);
    if (row.expect?.interval !== undefined) expect(s.agent.timing.steadyIntervalSecs).toBe(row.expect.interval);
    if (row.expect?.strategy !== undefined) expect(s.updates.strategy).toBe(row.expect.strategy);
    if (row.expect?.windows !== undefined) expect(s.updates.periodic.windows).toHaveLength(row.expect.windows);
    if (row.warnings) {
      expect(loaded.warnings).toHaveLength(row.warnings.length);
      row.warnings.forEach((w, i) => expect(loaded.warnings[i]?.message).toContain(w));
    }
    if (row.strictError) {
      const err = await loadSettings({ root, strict: true }).catch((e: unknown) => e);
      expect((err as ConfigError).code).toBe(row.strictError);
    }
  });

  it('reports the unknown key warning as structured data', async () => {
    const { root, cleanup } = await tempRoot({ [`${ETC}/10-a.toml`]: '\n[updates.periodic]\ntimezone = "UTC"\n' });
    cleanups.push(cleanup);
    const { warnings } = await loadSettings({ root });
    expect(warnings).toEqual([
      {
        code: 'CONFIG_UNKNOWN_KEY',
        file: `${root}/${ETC}/10-a.toml`,
        key: 'updates.periodic.timezone',
        line: 3,
        message: `${root}/${ETC}/10-a.toml:3: unknown key 'updates.periodic.timezone'`,
      },
    ]);
  });

  it('returns deeply frozen settings', async () => {
    const { root, cleanup } = await tempRoot({ [`${ETC}/10-a.toml`]: win('Sat') });
    cleanups.push(cleanup);
    const { settings } = await loadSettings({ root });
    expect(Object.isFrozen(settings.updates.periodic.windows[0]?.days)).toBe(true);
    expect(Object.isFrozen(settings.agent.timing)).toBe(true);
  });
});

describe('config/fragments resolveDropins (pure)', () => {
  it('sorts by code unit, so upper case sorts before lower case and 100 before 20', () => {
    const r = resolveDropins([{ dir: '/u', entries: [{ name: 'b.toml', kind: 'file' }, { name: 'B.toml', kind: 'file' }, { name: '20.toml', kind: 'file' }, { name: '100.toml', kind: 'file' }] }]);
    expect(r.files).toEqual(['/u/100.toml', '/u/20.toml', '/u/B.toml', '/u/b.toml']);
  });
});
