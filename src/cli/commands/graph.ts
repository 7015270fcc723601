// `alt-updatectl graph next`: runs the agent's update selection on a graph file or URL.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CliUsageError, type CliIo } from '../command.js';
import { createGraphClient } from '../../graph/client.js';
import { GraphError } from '../../graph/errors.js';
import { parseGraphText, type Graph } from '../../graph/parse.js';
import { selectUpdate, type UpdateDecision } from '../../graph/select.js';
import type { Release } from '../../graph/release.js';

const USAGE = 'usage: alt-updatectl graph next --graph FILE|URL --booted PAYLOAD [--deny PAYLOAD]... [--allow-downgrade] [--json]';

async function loadGraph(source: string, io: CliIo): Promise<Graph> {
  if (/^https?:\/\//i.test(source)) {
    const client = createGraphClient({ baseUrl: source, env: io.env, totalTimeoutMs: 60_000 });
    try {
      return await client.fetchGraphUrl(source);
    } finally {
      await client.close();
    }
  }
  let text: Buffer;
  try {
    text = await readFile(source);
  } catch (err: unknown) {
    throw new GraphError('GRAPH_READ', `cannot read graph file '${source}': ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseGraphText(text);
}

const rel = (r: Release | null): { version: string; payload: string; age_index: number } | null =>
  r === null ? null : { version: r.version, payload: r.payload, age_index: r.ageIndex };

/** The JSON shape printed by `graph next --json` (snake_case, stable). */
export function decisionJson(d: UpdateDecision): Record<string, unknown> {
  return {
    booted: rel(d.booted),
    target: rel(d.target),
    reason: d.reason,
    deadend: { is_deadend: d.deadend.isDeadend, reason: d.deadend.reason },
  };
}

function human(d: UpdateDecision): string {
  const lines = [`booted: ${d.booted ? `${d.booted.version} (${d.booted.payload}, age_index ${d.booted.ageIndex})` : 'not in graph'}`];
  lines.push(`decision: ${d.reason}${d.target ? ` -> ${d.target.version} (${d.target.payload}, age_index ${d.target.ageIndex})` : ''}`);
  if (d.deadend.isDeadend) lines.push(`dead-end: ${d.deadend.reason ?? ''}`);
  return lines.join('\n');
}

/** Runs `graph <subcommand>`: exit 0 on a decision, 1 on a bad graph, 2 on bad flags. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'next') throw new CliUsageError(`unknown subcommand ${JSON.stringify(sub ?? '')}\n${USAGE}`);
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      options: {
        graph: { type: 'string' },
        booted: { type: 'string' },
        deny: { type: 'string', multiple: true },
        'allow-downgrade': { type: 'boolean' },
        json: { type: 'boolean' },
      },
    }));
  } catch (err: unknown) {
    throw new CliUsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  if (!values.graph) throw new CliUsageError(`--graph is required\n${USAGE}`);
  if (!values.booted) throw new CliUsageError(`--booted is required\n${USAGE}`);
  let decision: UpdateDecision;
  try {
    const graph = await loadGraph(values.graph, io);
    // A pullspec with digest (`<image>@sha256:…`) is an image host: match `oci` nodes, as the agent does.
    const bootedScheme = values.booted.includes('@sha256:') ? 'oci' : 'checksum';
    decision = selectUpdate(graph, { bootedPayload: values.booted, bootedScheme, denylist: values.deny ?? [], allowDowngrade: values['allow-downgrade'] === true });
  } catch (err: unknown) {
    if (!(err instanceof GraphError)) throw err;
    if (values.json) io.stdout(JSON.stringify({ error: { kind: err.kind, message: err.message } }));
    else io.stderr(`alt-updatectl graph next: ${err.kind}: ${err.message}`);
    return 1;
  }
  io.stdout(values.json ? JSON.stringify(decisionJson(decision)) : human(decision));
  return 0;
}
