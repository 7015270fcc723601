#!/usr/bin/env node
// Runs vitest with its normal output: the unit and integration projects (vitest.config.ts) and, at
// the same time, the tests on real systemd-nspawn nodes (vitest.realnode.config.ts). The real-node
// files spend most of their time waiting for containers to boot, stage and reboot, so running them
// beside the CPU-bound suites shortens the whole run by about their length (CI's budget is 30
// minutes); their output goes to .tmp/realnode-output.txt and is printed after the first run's, so
// the two never interleave. Then one plain closing line `Tests: N passed, N failed[, N skipped]`
// summed over both runs from vitest's JSON reports. Exits non-zero when either run failed or no test
// ran. Extra arguments go to the first run only (and skip the second); `--no-realnode` skips it too;
// `--serial` runs the second after the first (the old order, for a quieter machine while debugging).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const flags = new Set(['--no-realnode', '--serial']);
const args = process.argv.slice(2).filter((a) => !flags.has(a));
const serial = process.argv.includes('--serial');
const runs = [{ name: 'main', config: [], extra: args, output: null }];
if (!process.argv.includes('--no-realnode') && args.length === 0) {
  runs.push({ name: 'realnode', config: ['--config', 'vitest.realnode.config.ts'], extra: [], output: join(root, '.tmp', 'realnode-output.txt') });
}

/** Runs one vitest invocation; resolves with its exit code. Output: inherited, or into `run.output`. */
function start(run) {
  const report = join(root, '.tmp', `vitest-report-${run.name}.json`);
  mkdirSync(dirname(report), { recursive: true });
  rmSync(report, { force: true });
  const argv = [vitest, 'run', ...run.config, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...run.extra];
  return new Promise((resolve) => {
    const out = run.output === null ? null : createWriteStream(run.output);
    const child = spawn(process.execPath, argv, { cwd: root, stdio: out === null ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    if (out !== null) {
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
    }
    child.on('close', (status) => {
      const done = () => resolve({ run, report, status: status ?? 1 });
      if (out === null) done();
      else out.end(done);
    });
  });
}

const results = [];
if (serial) for (const run of runs) results.push(await start(run));
else results.push(...(await Promise.all(runs.map(start))));

let code = 0;
const total = { passed: 0, failed: 0, skipped: 0, all: 0 };
for (const { run, report, status } of results) {
  if (run.output !== null) {
    process.stdout.write(`\n===== ${run.name} run (ran beside the main run; its output was kept in ${run.output}) =====\n`);
    process.stdout.write(readFileSync(run.output, 'utf8'));
  }
  code ||= status;
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
