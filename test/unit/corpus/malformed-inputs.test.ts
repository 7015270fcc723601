// Malformed-input corpus (issue #7): seeded generated inputs for every boundary parser. Each case
// must end in a valid value or the capability's typed error with a stable code -- never another
// exception. The seed and the case index are in every failure message; the total is asserted last.
import { MockAgent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_ERROR_CODES, ConfigError } from '../../../src/config/errors.js';
import { parseFragment } from '../../../src/config/fragments.js';
import { settingsFromFragments } from '../../../src/config/load.js';
import { createFleetLockClient } from '../../../src/fleetlock/client.js';
import { FleetLockError } from '../../../src/fleetlock/errors.js';
import { GROUP_PATTERN, parseClientParams, parseErrorBody } from '../../../src/fleetlock/protocol.js';
import { createGraphClient } from '../../../src/graph/client.js';
import { GRAPH_ERROR_CODES, GraphError } from '../../../src/graph/errors.js';
import { parseGraphText } from '../../../src/graph/parse.js';
import { selectUpdate } from '../../../src/graph/select.js';
import { OstreeBadReplyError } from '../../../src/ostree/client/errors.js';
import { parseDeploymentSet } from '../../../src/ostree/client/parse.js';
import { generateConfigCases } from './gen-config.js';
import { generateGraphCases } from './gen-graphs.js';
import { generateClientParamBodies, generateDeploymentCases, generateFleetLockReplies } from './gen-replies.js';

const SEED = Number(process.env['CORPUS_SEED'] ?? 20261127);
const MIN_TOTAL = 1000;
const METRIC_SAFE = /^[a-z0-9_]{1,64}$/;
const tally = new Map<string, number>();
const outcomes = new Map<string, Set<string>>();

/** Runs one case; returns 'ok' or the typed error's code; any other exception fails with seed and index. */
function classify(area: string, index: number, run: () => void, typed: (err: unknown) => string | null): string {
  tally.set(area, (tally.get(area) ?? 0) + 1);
  let outcome = 'ok';
  try {
    run();
  } catch (err: unknown) {
    const code = typed(err);
    if (code === null) {
      throw new Error(`${area} case #${index} (seed ${SEED}, rerun with CORPUS_SEED=${SEED}) threw an error outside the capability's contract (untyped, wrong code or kind): ${String(err)}`, { cause: err });
    }
    outcome = code;
  }
  if (!outcomes.has(area)) outcomes.set(area, new Set());
  outcomes.get(area)!.add(outcome);
  return outcome;
}

describe('malformed-input corpus (seeded)', () => {
  afterAll(() => {
    // Visible in the test output: how many cases of each area ran and how they ended.
    for (const [area, n] of tally) console.log(`corpus ${area}: ${n} cases, outcomes ${[...(outcomes.get(area) ?? [])].sort().join(' ')}`);
  });

  it('graphs: every document decodes and selects, or fails with a GraphError code', () => {
    const cases = generateGraphCases(SEED, 450);
    for (const [i, c] of cases.entries()) {
      classify(
        'graph',
        i,
        () => {
          const g = parseGraphText(c.text);
          // A graph that decodes must also survive release selection (scheme and age_index checks).
          const booted = g.nodes[0]?.payload ?? 'none';
          selectUpdate(g, { bootedPayload: booted });
        },
        (err) => (err instanceof GraphError && (GRAPH_ERROR_CODES as readonly string[]).includes(err.code) && err.kind.length > 0 ? err.code : null),
      );
    }
    expect([...outcomes.get('graph')!].sort()).toEqual(['GRAPH_DECODE', 'GRAPH_NODE_LOOKUP', 'GRAPH_NODE_PARSE', 'ok']);
  });

  it('graph HTTP answers: the client returns a graph or a GraphError with a metric-safe kind', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const client = createGraphClient({ baseUrl: 'http://graph.example/', dispatcher: agent, maxBytes: 64 * 1024 });
    const replies = generateFleetLockReplies(SEED + 1, 120);
    const docs = generateGraphCases(SEED + 2, 120);
    const pool = agent.get('http://graph.example');
    for (const [i, rep] of replies.entries()) {
      const body = rep.status < 300 ? docs[i]!.text : rep.body;
      pool.intercept({ path: '/v1/graph', method: 'GET' }).reply(rep.status, body);
      let failure: unknown = null;
      await client.fetchGraphUrl('http://graph.example/v1/graph').catch((err: unknown) => (failure = err));
      classify(
        'graph_http',
        i,
        () => {
          if (failure !== null) throw failure;
        },
        (err) => (err instanceof GraphError && METRIC_SAFE.test(err.kind) ? err.code : null),
      );
    }
    agent.assertNoPendingInterceptors();
    await agent.close();
    const seen = outcomes.get('graph_http')!;
    expect([...seen].filter((c) => !['ok', 'GRAPH_DECODE', 'GRAPH_HTTP', 'GRAPH_SERVER', 'GRAPH_NODE_LOOKUP', 'GRAPH_TOO_LARGE'].includes(c))).toEqual([]);
    expect(seen).toContain('ok');
    expect(seen).toContain('GRAPH_DECODE');
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });

  it('config fragments: valid settings, or a ConfigError naming the file (and the key when a value is wrong)', () => {
    const path = '/etc/alt-updated/config.d/50-corpus.toml';
    for (const [i, c] of generateConfigCases(SEED + 3, 400).entries()) {
      classify(
        'config',
        i,
        () => {
          settingsFromFragments([parseFragment(path, c.text)], [], c.strict);
        },
        (err) => {
          if (!(err instanceof ConfigError) || !CONFIG_ERROR_CODES.includes(err.code as never)) return null;
          if (err.file !== path || !err.message.includes(path)) return null;
          if ((err.code === 'CONFIG_INVALID' || err.code === 'CONFIG_STRICT') && err.key === null) return null;
          if (err.code === 'CONFIG_SYNTAX' && err.line === null) return null;
          return err.code;
        },
      );
    }
    expect([...outcomes.get('config')!].sort()).toEqual(['CONFIG_INVALID', 'CONFIG_STRICT', 'CONFIG_SYNTAX', 'ok']);
  });

  it('FleetLock replies: 2xx resolves, anything else is a FleetLockError with the server kind or a generic one', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const client = createFleetLockClient({ baseUrl: 'http://lock.example/', dispatcher: agent });
    const pool = agent.get('http://lock.example');
    for (const [i, rep] of generateFleetLockReplies(SEED + 4, 200).entries()) {
      const api = i % 2 === 0 ? 'pre-reboot' : 'steady-state';
      pool.intercept({ path: `/v1/${api}`, method: 'POST' }).reply(rep.status, rep.body);
      const call = api === 'pre-reboot' ? client.preReboot : client.steadyState;
      let failure: unknown = null;
      await call({ id: 'n1', group: 'default' }).catch((err: unknown) => (failure = err));
      let decoded: unknown = null;
      try {
        decoded = JSON.parse(rep.body.slice(0, 64 * 1024));
      } catch {
        decoded = null;
      }
      // `kind` is a metric label (AltError contract): a server kind that is not metric-safe (spaces,
      // Cyrillic, newlines...) must fall back to the generic kind, as the graph client does.
      const serverKind = parseErrorBody(decoded)?.kind;
      const expectedKind = serverKind !== undefined && METRIC_SAFE.test(serverKind) ? serverKind : `generic_http_${rep.status}`;
      classify(
        'fleetlock_reply',
        i,
        () => {
          if ((failure === null) !== rep.status < 300) throw new Error(`status ${rep.status}: resolved=${String(failure === null)}`);
          if (failure !== null) throw failure;
        },
        (err) =>
          err instanceof FleetLockError && err.code === 'FLEETLOCK_REQUEST_FAILED' && err.kind === expectedKind && METRIC_SAFE.test(err.kind) && err.status === rep.status && err.api === api
            ? err.code
            : null,
      );
    }
    agent.assertNoPendingInterceptors();
    await agent.close();
    expect(outcomes.get('fleetlock_reply')).toEqual(new Set(['ok', 'FLEETLOCK_REQUEST_FAILED']));
  });

  it('FleetLock bodies: the error-body reader and the client_params validator never throw and keep their contracts', () => {
    for (const [i, body] of generateClientParamBodies(SEED + 5, 150).entries()) {
      classify(
        'fleetlock_body',
        i,
        () => {
          const p = parseClientParams(body);
          if (p.ok && (p.params.id.length === 0 || !GROUP_PATTERN.test(p.params.group))) throw new Error('accepted invalid params');
          if (!p.ok && !['invalid_body', 'invalid_client_params'].includes(p.kind)) throw new Error(`kind ${String(p.kind)}`);
          const e = parseErrorBody(body);
          if (e !== null && (typeof e.kind !== 'string' || e.kind.length === 0 || typeof e.value !== 'string')) throw new Error('bad error body');
        },
        () => null,
      );
    }
  });

  it('D-Bus deployment lists: a DeploymentSet, or OstreeBadReplyError naming the field', () => {
    for (const [i, c] of generateDeploymentCases(SEED + 6, 400).entries()) {
      classify(
        'dbus_deployments',
        i,
        () => {
          const set = parseDeploymentSet(c.value);
          if (set.booted !== null && !set.deployments.includes(set.booted)) throw new Error('booted not in the list');
        },
        (err) =>
          err instanceof OstreeBadReplyError && err.code === 'OSTREE_BAD_REPLY' && err.kind === 'ostree_bad_reply' && /^Deployments(\[\d+\]\.[a-z-]+|\[\d+\])?$/.test(err.field)
            ? err.code
            : null,
      );
    }
    expect(outcomes.get('dbus_deployments')).toEqual(new Set(['ok', 'OSTREE_BAD_REPLY']));
  });

  it(`ran at least ${MIN_TOTAL} generated cases in total, every one typed`, () => {
    const total = [...tally.values()].reduce((a, b) => a + b, 0);
    expect(tally.size).toBe(6);
    expect(total).toBeGreaterThanOrEqual(MIN_TOTAL);
  });
});
