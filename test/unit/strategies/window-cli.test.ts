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

  // coreos/zincati tests/fixtures/20-periodic-sample.toml, re-typed (Zincati: total length 3145,
  // the Sunday window wraps into Monday), plus the strategy line Zincati's test sets in code.
  const ZINCATI_PERIODIC_SAMPLE = `
[updates]
strategy = "periodic"
[[updates.periodic.window]]
days = [ "Tue", "Wed" ]
start_time = "23:00"
length_minutes = 120
[[updates.periodic.window]]
days = [ "Thu" ]
start_time = "23:30"
length_minutes = 25
[[updates.periodic.window]]
days = [ "Sun" ]
start_time = "00:00"
# 2 days, wrapping back to beginning of week.
length_minutes = 2880
`;

  it("reports Zincati's schedule length for its 20-periodic-sample.toml fixture", async () => {
    const dir = await withConfig(ZINCATI_PERIODIC_SAMPLE);
    // Monday 2026-11-30 00:00 UTC lies in the wrapped part of the Sunday window.
    const r = await cli(['check', '--root', dir, '--at', '2026-11-30T00:00:00Z', '--json']);
    expect(JSON.parse(r.out)).toMatchObject({ in_window: true, schedule_length_minutes: 3145 });
  });

  it('is outside a window ending exactly at the week boundary on Monday 00:00, as Zincati', async () => {
    const dir = await withConfig('[updates]\nstrategy = "periodic"\n[[updates.periodic.window]]\ndays = ["Sun"]\nstart_time = "23:00"\nlength_minutes = 60\n');
    const last = await cli(['check', '--root', dir, '--at', '2026-11-29T23:59:30Z', '--json']);
    expect(JSON.parse(last.out)).toMatchObject({ in_window: true, schedule_length_minutes: 60 });
    const monday = await cli(['check', '--root', dir, '--at', '2026-11-30T00:00:00Z', '--json']);
    expect(JSON.parse(monday.out)).toMatchObject({ in_window: false, next_window_start: '2026-12-06T23:00:00.000Z' });
  });

  it('exits 1 with the config error for an unknown time zone', async () => {
    const dir = await withConfig('[updates.periodic]\ntime_zone = "Mars/Olympus_Mons"\n');
    const r = await cli(['check', '--root', dir, '--at', '2026-03-29T00:30:00Z', '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Mars\/Olympus_Mons/);
  });
});
