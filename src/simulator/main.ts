// `npm run simulate` entry (scripts/simulate.mjs imports the built copy): parse, run, print.
import { writeFile } from 'node:fs/promises';
import { errorChain } from '../common/errors.js';
import { formatSummary, formatTimeline, parseSimulateArgs, SIMULATE_USAGE, countingLogger } from './cli.js';
import { renderPlot } from './plot.js';
import { simulate } from './simulate.js';

/** Runs the simulator on `argv`; resolves to the exit code (0 ok, 1 invariants violated or not finished, 2 usage). */
export async function simulateMain(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseSimulateArgs(argv);
  } catch (err: unknown) {
    process.stderr.write(`simulate: ${errorChain(err).join(': ')}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${SIMULATE_USAGE}\n`);
    return 0;
  }
  let result;
  const logger = countingLogger(args.verbose);
  try {
    result = await simulate({ ...args.options, logger });
  } catch (err: unknown) {
    process.stderr.write(`simulate: ${errorChain(err).join(': ')}\n`);
    return 1;
  }
  if (args.plot !== null) {
    try {
      await writeFile(args.plot, renderPlot(result));
    } catch (err: unknown) {
      process.stderr.write(`simulate: cannot write the plot: ${errorChain(err).join(': ')}\n`);
      return 1;
    }
  }
  const logged = [...logger.counts].map(([k, n]) => `${k} ${n}`).join(', ');
  process.stdout.write(
    args.json ? `${JSON.stringify(result.summary)}\n` : `${formatTimeline(result)}\n${formatSummary(result)}agent and server log: ${logged || 'no warnings or errors'}\n`,
  );
  return result.summary.invariants_ok && result.summary.finished ? 0 : 1;
}
