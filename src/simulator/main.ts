// `npm run simulate` entry (scripts/simulate.mjs imports the built copy) and the runner that
// `alt-updatectl simulate` shares: parse, run, print.
import { writeFile } from 'node:fs/promises';
import { errorChain } from '../common/errors.js';
import { formatPlan, formatSummary, formatTimeline, parseSimulateArgs, planValues, PLAN_KEYS, SIMULATE_USAGE, countingLogger, type SimulateArgs } from './cli.js';
import { renderPlot } from './plot.js';
import { simulate } from './simulate.js';

/** Where the runner writes (text as is, newlines included). */
export interface SimulateOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: SimulateOutput = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** Runs parsed arguments; resolves to the exit code (0 ok, 1 invariants violated, not finished or a failure). */
export async function runSimulate(args: SimulateArgs, out: SimulateOutput = processOutput): Promise<number> {
  let result;
  const logger = countingLogger(args.verbose);
  try {
    result = await simulate({ ...args.options, logger });
  } catch (err: unknown) {
    out.stderr(`simulate: ${errorChain(err).join(': ')}\n`);
    return 1;
  }
  if (args.plot !== null) {
    try {
      await writeFile(args.plot, renderPlot(result));
    } catch (err: unknown) {
      out.stderr(`simulate: cannot write the plot: ${errorChain(err).join(': ')}\n`);
      return 1;
    }
  }
  const logged = [...logger.counts].map(([k, n]) => `${k} ${n}`).join(', ');
  const values = planValues(args);
  const plan = Object.fromEntries(PLAN_KEYS.map((k) => [k, { value: values[k], source: args.sources[k] }]));
  out.stdout(
    args.json
      ? `${JSON.stringify({ ...result.summary, plan })}\n`
      : `${formatPlan(args)}\n${formatTimeline(result)}\n${formatSummary(result)}agent and server log: ${logged || 'no warnings or errors'}\n`,
  );
  return result.summary.invariants_ok && result.summary.finished ? 0 : 1;
}

/** Runs the simulator on `argv`; resolves to the exit code (0 ok, 1 invariants violated or not finished, 2 usage). */
export async function simulateMain(argv: readonly string[], out: SimulateOutput = processOutput): Promise<number> {
  let args;
  try {
    args = parseSimulateArgs(argv);
  } catch (err: unknown) {
    out.stderr(`simulate: ${errorChain(err).join(': ')}\n`);
    return 2;
  }
  if (args.help) {
    out.stdout(`${SIMULATE_USAGE}\n`);
    return 0;
  }
  return runSimulate(args, out);
}
