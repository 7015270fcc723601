#!/usr/bin/env node
// alt-updatectl: the operator CLI. Each subcommand lives in `src/cli/commands/<name>.ts` and exports
// `run(argv, io)`; this file only dispatches, so capabilities add commands without touching each other.
import { CliUsageError, type CliIo, type CliCommand } from './command.js';

const COMMANDS: Record<string, { summary: string; file: string }> = {
  config: { summary: 'show the effective configuration (config show)', file: 'config' },
  identity: { summary: 'show this node identity', file: 'identity' },
  graph: { summary: 'update graph decisions (graph next)', file: 'graph' },
  window: { summary: 'periodic strategy maintenance windows (window check)', file: 'window' },
  fleetlock: { summary: 'take, release or inspect a FleetLock slot', file: 'fleetlock' },
  status: { summary: 'show the agent state', file: 'status' },
  check: { summary: 'ask the agent to check for updates now', file: 'check' },
  'update-now': { summary: 'allow a pending reboot now', file: 'update-now' },
  simulate: { summary: 'simulate a fleet rollout with this config (fleet simulator)', file: 'simulate' },
};

function usage(): string {
  const lines = ['usage: alt-updatectl <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push('', 'exit codes: see docs/usage/cli.md');
  return lines.join('\n');
}

/** Dispatches `argv` to a subcommand and returns the process exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr(`alt-updatectl: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  try {
    // Lazy import keeps start-up fast: only the command that runs is loaded.
    const cmd = (await import(`./commands/${entry.file}.js`)) as CliCommand;
    return await cmd.run(rest, io);
  } catch (err: unknown) {
    if (err instanceof CliUsageError) {
      io.stderr(`alt-updatectl ${name}: ${err.message}`);
      return 2;
    }
    io.stderr(`alt-updatectl ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

const io: CliIo = {
  stdout: (s) => void process.stdout.write(`${s}\n`),
  stderr: (s) => void process.stderr.write(`${s}\n`),
  env: process.env,
};
process.exitCode = await main(process.argv.slice(2), io);
