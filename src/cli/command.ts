/** Where a CLI command writes, and what environment it sees; injected so tests capture output. */
export interface CliIo {
  /** Writes one line (or block) to standard output. */
  stdout(text: string): void;
  /** Writes one line (or block) to standard error. */
  stderr(text: string): void;
  /** The process environment. */
  env: NodeJS.ProcessEnv;
}

/** The shape every `src/cli/commands/<name>.ts` module exports. */
export interface CliCommand {
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Wrong flags or arguments: the dispatcher prints the message and exits 2. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}
