#!/usr/bin/env node
// Runs vitest with its normal output -- first the unit and integration projects (vitest.config.ts),
// then the tests on real systemd-nspawn nodes (vitest.realnode.config.ts, after the others so that
// booting nodes do not share the 2 cores with the integration suites) -- and prints one plain
// closing line `Tests: N passed, N failed[, N skipped]` summed over both runs from vitest's JSON
// reports. Exits non-zero when either run failed or no test ran. Extra arguments go to the first run
// only; `--no-realnode` skips the second (a quick local run).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2).filter((a) => a !== '--no-realnode');
const runs = [{ name: 'main', config: [], extra: args }];
if (!process.argv.includes('--no-realnode') && args.length === 0) runs.push({ name: 'realnode', config: ['--config', 'vitest.realnode.config.ts'], extra: [] });

let code = 0;
const total = { passed: 0, failed: 0, skipped: 0, all: 0 };
for (const run of runs) {
  const report = join(root, '.tmp', `vitest-report-${run.name}.json`);
  mkdirSync(dirname(report), { recursive: true });
  rmSync(report, { force: true });
  const r = spawnSync(process.execPath, [vitest, 'run', ...run.config, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...run.extra], {
    cwd: root,
    stdio: 'inherit',
  });
  code ||= r.status ?? 1;
  try {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    total.passed += j.numPassedTests;
    total.failed += j.numFailedTests;
    total.skipped += (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
    total.all += j.numTotalTests;
  } catch {
    process.stdout.write(`\n${run.name} run: no report was written\n`);
    code ||= 1;
  }
}
process.stdout.write(`\nTests: ${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}\n`);
if (total.all === 0) code ||= 1;
process.exit(code);
