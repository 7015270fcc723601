// The real agent against a misbehaving graph server (test/helpers/faults.ts) standing in front of the
// real alt-graphd: 500s, truncated JSON, a body cut mid-transfer, a 100 MiB body, connection resets,
// a hanging request, then a stream of malformed graphs from the corpus. Each fault must give
// `update_check_failed` with the right kind while the agent keeps running, stays in its state and
// stages nothing; with a good server back it updates exactly once. Checks are driven by D-Bus
// CheckNow (each call returns when its check tick is done), so no test waits on a jittered timer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/graphd.js';
import { startFaultServer, type FaultMode, type FaultServer } from '../../helpers/faults.js';
import type { TestbedNode } from '../../helpers/testbed-node.js';
import { generateGraphCases } from '../../unit/corpus/gen-graphs.js';
import { agentAlive, agentState, agentToml, checkNow, createNode, createWorld, eventNames, eventsSince, stagedVersion, type World } from './harness.js';

const CORPUS_SEED = 7007;

describe('agent under graph server faults', () => {
  let world: World;
  let fault: FaultServer;
  let node: TestbedNode;
  let goodGraph = '';

  beforeAll(async () => {
    world = await createWorld('20261101.0.0');
    fault = await startFaultServer({ kind: 'status', status: 500 });
    // Steady checks only on CheckNow (the timer would wait an hour): no timer tick can race a mode switch.
    node = await createNode(world, 'faulty-graph', agentToml({ graphUrl: fault.url, steadySecs: 3600 }));
    // The update exists from the start: only the faults keep the agent from seeing it.
    await world.release('20261115.0.0');
    goodGraph = await (await fetch(new URL('v1/graph?basearch=x86_64&stream=sisyphus', world.graphd.url))).text();
    expect(goodGraph).toContain('20261115.0.0');
    await node.start();
    await waitFor('the first failed check', () => eventNames(node).includes('update_check_failed'));
  });
  afterAll(async () => {
    await node?.destroy();
    await fault?.close();
    await world?.close();
  });

  /** Runs `checks` CheckNow ticks under `mode`; returns the kinds of the update_check_failed events. */
  // A corpus graph that decodes is a successful check without an update: that may move the agent
  // from reported_steady to no_new_update (both are steady polling); nothing else may change.
  async function underFault(mode: FaultMode, checks = 2, steadyMoveAllowed = false): Promise<string[]> {
    const stateBefore = await agentState(node);
    fault.setMode(mode);
    const from = node.records.length;
    for (let i = 0; i < checks; i++) await checkNow(node);
    // The D-Bus reply can overtake the agent's log lines on its stdout pipe: wait for the records.
    const outcome = (e: string): boolean => e === 'update_check_failed' || e === 'no_update';
    await waitFor(`${checks} check outcomes`, () => eventNames(node, from).filter(outcome).length >= checks);
    const events = eventsSince(node, from);
    const moves = events.filter((e) => e.event === 'state_changed').map((e) => `${String(e['from'])}->${String(e['to'])}`);
    expect(moves).toEqual(steadyMoveAllowed && moves.length > 0 ? ['reported_steady->no_new_update'] : []);
    expect(events.map((e) => e.event)).not.toContain('update_found');
    expect(agentAlive(node)).toBe(true);
    expect(await agentState(node)).toEqual(steadyMoveAllowed ? expect.stringMatching(/^(reported_steady|no_new_update)$/) : stateBefore);
    expect(fault.requestsInMode()).toBe(checks);
    return events.filter((e) => e.event === 'update_check_failed').map((e) => String(e['kind']));
  }

  /** Exactly `n` failures (one per CheckNow), all of `kind`. */
  function expectKinds(kinds: string[], kind: string, n: number): void {
    expect(kinds).toEqual(Array.from({ length: n }, () => kind));
  }

  it('HTTP 500 without a body: generic_http_500', async () => {
    const kinds = await underFault({ kind: 'status', status: 500 });
    expectKinds(kinds, 'generic_http_500', 2);
  });

  it('HTTP 503 with a Cincinnati error body: the server kind', async () => {
    const kinds = await underFault({ kind: 'status', status: 503, body: JSON.stringify({ kind: 'graph_unavailable', value: 'try later' }) });
    expectKinds(kinds, 'graph_unavailable', 2);
  });

  it('a complete 200 response holding truncated JSON: client_failed_json_decoding', async () => {
    const kinds = await underFault({ kind: 'truncated_json', body: goodGraph, keep: Math.floor(goodGraph.length / 2) });
    expectKinds(kinds, 'client_failed_json_decoding', 2);
  });

  it('a body cut mid-transfer (content-length not reached): client_failed_request', async () => {
    const kinds = await underFault({ kind: 'short_body', body: goodGraph, keep: 10 });
    expectKinds(kinds, 'client_failed_request', 2);
  });

  it('a 100 MiB streamed body trips the 16 MiB cap while reading: client_response_too_large', async () => {
    const kinds = await underFault({ kind: 'huge', bytes: 100 * 1024 * 1024, declareLength: false }, 1);
    expectKinds(kinds, 'client_response_too_large', 1);
    // The body really streamed past the cap, and the client stopped reading near it: not all 100 MiB.
    expect(fault.bytesSentInMode()).toBeGreaterThan(16 * 1024 * 1024);
    expect(fault.bytesSentInMode()).toBeLessThan(64 * 1024 * 1024);
  });

  it('a 100 MiB declared content-length is refused before reading: client_response_too_large', async () => {
    const kinds = await underFault({ kind: 'huge', bytes: 100 * 1024 * 1024, declareLength: true }, 1);
    expectKinds(kinds, 'client_response_too_large', 1);
    expect(fault.bytesSentInMode()).toBeLessThan(64 * 1024 * 1024);
  });

  it('connection reset: client_failed_request', async () => {
    const kinds = await underFault({ kind: 'reset' });
    expectKinds(kinds, 'client_failed_request', 2);
  });

  it('a hanging request blocks only that check: the agent stays up and answers D-Bus; closing it fails the check', async () => {
    // The client's total timeout is 300 s with no config key; the hang is ended from the server side.
    const stateBefore = await agentState(node);
    fault.setMode({ kind: 'hang' });
    const from = node.records.length;
    const pending = checkNow(node);
    await waitFor('the agent to be waiting on the hung request', () => fault.hanging() === 1);
    // While the request hangs the process is alive, serves its D-Bus properties and logs no failure.
    expect(await agentState(node)).toBe(stateBefore);
    expect(agentAlive(node)).toBe(true);
    expect(eventNames(node, from)).not.toContain('update_check_failed');
    fault.setMode({ kind: 'status', status: 500 });
    fault.releaseHung();
    await pending;
    await waitFor('the failed check record', () => eventNames(node, from).includes('update_check_failed'));
    const failed = eventsSince(node, from).filter((e) => e.event === 'update_check_failed');
    expectKinds(failed.map((e) => String(e['kind'])), 'client_failed_request', 1);
    expect(await agentState(node)).toBe(stateBefore);
  });

  it('SIGTERM while a graph request hangs: the agent aborts the request and exits 0', async () => {
    fault.setMode({ kind: 'hang' });
    const pending = checkNow(node).catch((err: unknown) => err);
    await waitFor('the hung request', () => fault.hanging() === 1);
    const agent = node.agent()!;
    const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
    await node.stopAgent('SIGTERM');
    expect(await exited).toBe(0);
    await pending;
    // The agent closed its side: the hung connection is gone without the server letting go.
    await waitFor('the hung connection to close', () => fault.hanging() === 0);
    fault.setMode({ kind: 'status', status: 500 });
    const from = node.records.length;
    await node.startAgent();
    await waitFor('the restarted agent to check', () => eventNames(node, from).includes('update_check_failed'));
  });

  it('a stream of 60 malformed graphs from the corpus: every check fails typed, nothing is staged', async () => {
    const cases = generateGraphCases(CORPUS_SEED, 60);
    const from = node.records.length;
    const kinds = await underFault({ kind: 'bodies', next: (n) => cases[n % cases.length]!.text }, cases.length, true);
    const allowed = ['client_failed_json_decoding', 'client_failed_node_lookup', 'client_failed_node_parsing'];
    expect(kinds.filter((k) => !allowed.includes(k))).toEqual([]);
    // Corpus graphs that decode name no real payload: the booted release is not in them, no update.
    expect(eventNames(node, from).filter((e) => e === 'update_check_failed' || e === 'no_update')).toHaveLength(cases.length);
    expect(eventNames(node, from).filter((e) => e.startsWith('stage') || e.startsWith('update_staged'))).toEqual([]);
    expect(await stagedVersion(node)).toBeNull();
    expect(await node.reboots()).toBe(0);
  });

  it('recovers once the real server answers again: finds, stages and reboots into the release once', async () => {
    fault.setMode({ kind: 'proxy', target: world.graphd.url });
    const from = node.records.length;
    await checkNow(node);
    await waitFor('the simulated reboot', async () => (await node.reboots()) === 1, 60_000);
    expect(eventNames(node, from)).toEqual(expect.arrayContaining(['update_found', 'stage_started', 'update_staged', 'update_finalizing']));
    await node.powerCycleIfRebooted();
    expect(await node.bootedVersion()).toBe('20261115.0.0');
    const boot = node.records.length;
    await waitFor('a clean check after the reboot', () => eventNames(node, boot).includes('no_update'));
    expect(await node.reboots()).toBe(1);
  });
});
