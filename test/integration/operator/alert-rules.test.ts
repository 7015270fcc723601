// The shipped Prometheus alerting rules (packaging/prometheus/alt-updated.rules.yml): the real
// promtool accepts them and passes their unit tests, every alert is tested firing and not firing, a
// broken threshold fails those tests, and every metric the rules read is one our daemons export and
// document.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentMetrics } from '../../../src/agent/operator/metrics.js';
import { createFleetLockMetrics } from '../../../src/fleetlock/server/metrics.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DIR = join(ROOT, 'packaging', 'prometheus');
const RULES = 'alt-updated.rules.yml';
const TESTS = ['alt-updated.rules.test.yml', 'alt-updated.rules.days.test.yml'];
const read = (p: string): Promise<string> => readFile(join(ROOT, p), 'utf8');

/** Runs promtool in `cwd`; resolves with its exit code and output (never rejects on a failure). */
function promtool(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('promtool', args, { cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, output: stdout + stderr });
    });
  });
}

/** The `expr:` of each rule, one string per rule (block scalars joined). */
function expressions(rules: string): string[] {
  const out: string[] = [];
  const lines = rules.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr: ?(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const parts = m[2] === '|' || m[2] === '>' ? [] : [m[2]!];
    while (i + 1 < lines.length && /^\s*$/.test(lines[i + 1]!) === false && lines[i + 1]!.search(/\S/) > m[1]!.length) parts.push(lines[++i]!.trim());
    out.push(parts.join(' '));
  }
  return out;
}

// PromQL words the rules may use that are not metric names: functions, operators, label names.
const PROMQL_WORDS = new Set(['and', 'on', 'sum', 'without', 'time', 'increase', 'max_over_time', 'api', 'kind', 'job', 'instance', 'd', 'h', 'm']);

describe('packaging/prometheus/alt-updated.rules.yml', () => {
  let rules = '';
  let alerts: string[] = [];
  beforeAll(async () => {
    rules = await read(`packaging/prometheus/${RULES}`);
    alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
  });

  it('passes promtool check rules', async () => {
    const r = await promtool(['check', 'rules', RULES], DIR);
    expect(r).toEqual({ code: 0, output: `Checking ${RULES}\n  SUCCESS: ${alerts.length} rules found\n\n` });
    expect(alerts.length).toBeGreaterThanOrEqual(5);
  });

  it('passes its promtool unit tests', async () => {
    const r = await promtool(['test', 'rules', ...TESTS], DIR);
    expect(r.output).not.toContain('FAILED');
    expect(r.code).toBe(0);
    expect(r.output.match(/SUCCESS/g)).toHaveLength(TESTS.length);
  });

  it('has a test of every alert firing and one of it not firing', async () => {
    const tests = (await Promise.all(TESTS.map((t) => read(`packaging/prometheus/${t}`)))).join('\n');
    const cases = [...tests.matchAll(/alertname: (\w+)\n\s+exp_alerts:( \[\])?/g)].map((m) => ({ name: m[1]!, fires: m[2] === undefined }));
    for (const a of alerts) {
      expect(cases.filter((c) => c.name === a && c.fires), `${a} firing`).not.toHaveLength(0);
      expect(cases.filter((c) => c.name === a && !c.fires), `${a} not firing`).not.toHaveLength(0);
    }
    expect(cases.filter((c) => !alerts.includes(c.name))).toEqual([]);
  });

  describe('with a rule broken', () => {
    let tmp = '';
    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'alert-rules-'));
    });
    afterAll(async () => {
      await rm(tmp, { recursive: true, force: true });
    });

    it('fails the unit tests (they check thresholds, not only that the rules load)', async () => {
      for (const t of TESTS) await copyFile(join(DIR, t), join(tmp, t));
      const broken = rules.replace('alt_fleetlockd_lock_oldest_hold_seconds > 3600', 'alt_fleetlockd_lock_oldest_hold_seconds > 7200');
      expect(broken).not.toBe(rules);
      await writeFile(join(tmp, RULES), broken);
      const r = await promtool(['test', 'rules', TESTS[0]!], tmp);
      expect(r.code).not.toBe(0);
      expect(r.output).toContain('alertname: AltFleetlockdSlotHeldTooLong');
    });
  });

  it('reads only metrics the daemons export and their docs list', async () => {
    const typed = (text: string): string[] => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    const exported = new Set([
      'up', // Prometheus' own, per scrape target
      ...typed(createAgentMetrics({ processStartMs: 0 }).render()),
      ...typed(createFleetLockMetrics().render({ slots: new Map([['g', 1]]), holders: new Map(), halted: new Set(), oldestSinceMs: new Map(), nowMs: 0, engine: 'etcd' })),
      // alt-graphd renders its exposition inline: its TYPE lines are literal strings in the source.
      ...[...(await read('src/graph-server/http.ts')).matchAll(/'# TYPE (\S+) /g)].map((m) => m[1]!),
    ]);
    const docs = (await Promise.all(['metrics.md', 'fleetlock-server.md', 'update-graph.md'].map((d) => read(`docs/usage/${d}`)))).join('\n');
    const documented = new Set([...docs.matchAll(/^\| `([a-z_:]+)` \|/gm)].map((m) => m[1]!));
    const words = new Set<string>();
    for (const e of expressions(rules)) {
      // Drop string literals and numbers; what is left are metric names and PromQL words.
      for (const w of e.replace(/"[^"]*"/g, '').replace(/\[[^\]]*\]/g, '').matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) words.add(w[0]);
    }
    const metrics = [...words].filter((w) => !PROMQL_WORDS.has(w)).sort();
    expect(metrics.length).toBeGreaterThanOrEqual(10);
    expect(metrics.filter((m) => !exported.has(m))).toEqual([]);
    expect(metrics.filter((m) => m !== 'up' && !documented.has(m))).toEqual([]);
  });
});
