import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/commands/window.js';

let root: string;

async function withConfig(toml: string): Promise<string> {
  const dir = await mkdtemp(join(root, 'cfg-'));
  await mkdir(join(dir, 'etc/alt-updated/config.d'), { recursive: true });
  await writeFile(join(dir, 'etc/alt-updated/config.d/30-updates-strategy.toml'), toml);
  return dir;
}

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: {} }).catch((e: unknown) => e);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const BERLIN = `
[updates]
strategy = "periodic"
[updates.periodic]
time_zone = "Europe/Berlin"
[[updates.periodic.window]]
days = ["Sun"]
start_time = "02:30"
length_minutes = 60
[[updates.periodic.window]]
days = ["Sun"]
start_time = "03:00"
length_minutes = 60
`;

describe('alt-updatectl window check', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'window-cli-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('answers for the configured calendar across the Berlin spring-forward night', async () => {
    const dir = await withConfig(BERLIN);
    const before = await cli(['check', '--root', dir, '--at', '2026-03-29T00:30:00Z', '--json']);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.out)).toEqual({
      in_window: false,
      next_window_start: '2026-03-29T01:00:00.000Z',
      schedule_length_minutes: 90,
      time_zone: 'Europe/Berlin',
    });
    const inside = await cli(['check', '--root', dir, '--at', '2026-03-29T01:45:00+00:00', '--json']);
    expect(JSON.parse(inside.out)).toMatchObject({ in_window: true, next_window_start: '2026-04-05T00:30:00.000Z' });
  });

  it('reports an empty calendar as never in a window', async () => {
    const dir = await withConfig('[updates]\nstrategy = "immediate"\n');
    const r = await cli(['check', '--root', dir, '--at', '2026-03-29T00:30:00Z', '--json']);
    expect(JSON.parse(r.out)).toEqual({ in_window: false, next_window_start: null, schedule_length_minutes: 0, time_zone: 'UTC' });
  });

  it('prints a human summary without --json', async () => {
    const dir = await withConfig(BERLIN);
    const r = await cli(['check', '--root', dir, '--at', '2026-03-29T01:45:00Z']);
    expect(r.out).toContain('inside a maintenance window');
    expect(r.out).toContain('next window start: 2026-04-05T00:30:00.000Z');
  });

  it.each([
    [['check', '--at', '2026-03-29T00:30:00']],
    [['check', '--at', 'yesterdayZ']],
    [['check', '--bogus']],
    [['list']],
  ])('rejects bad usage %j', async (argv) => {
    const r = await cli(argv);
    expect(r.code).toMatchObject({ name: 'CliUsageError' });
  });

  it('exits 1 with the config error for an unknown time zone', async () => {
    const dir = await withConfig('[updates.periodic]\ntime_zone = "Mars/Olympus_Mons"\n');
    const r = await cli(['check', '--root', dir, '--at', '2026-03-29T00:30:00Z', '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Mars\/Olympus_Mons/);
  });
});
