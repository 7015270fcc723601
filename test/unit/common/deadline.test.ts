import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { startDeadline } from '../../../src/common/deadline.js';
import { createGraphClient } from '../../../src/graph/client.js';

/** How many signals Node's `AbortSignal.any` has tied to `signal` (its internal set; 0 when absent). */
function dependants(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  const set = key === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[key];
  return set?.size ?? 0;
}

describe('common/deadline', () => {
  it("aborts with the caller's reason when the caller's signal aborts", () => {
    const parent = new AbortController();
    const d = startDeadline(60_000, parent.signal);
    parent.abort(new Error('stopping'));
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as Error).message).toBe('stopping');
    expect(d.timedOut).toBe(false);
    d.done();
  });

  it('aborts with a TimeoutError once the deadline passes, and says so', async () => {
    const d = startDeadline(5);
    await new Promise<void>((resolve) => d.signal.addEventListener('abort', () => resolve(), { once: true }));
    expect(d.timedOut).toBe(true);
    expect((d.signal.reason as DOMException).name).toBe('TimeoutError');
    d.done();
  });

  it("is aborted at once for a caller's signal that already aborted", () => {
    const d = startDeadline(60_000, AbortSignal.abort(new Error('gone')));
    expect(d.signal.aborted).toBe(true);
    d.done();
  });

  it("done() leaves nothing on the caller's signal", () => {
    const parent = new AbortController();
    for (let i = 0; i < 100; i++) startDeadline(60_000, parent.signal).done();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    expect(dependants(parent.signal)).toBe(0);
  });

  // The agent passes one signal for its whole life to every poll: a poll must not leave anything on it
  // (with AbortSignal.any, each poll added a WeakRef to it that lived as long as the agent).
  it("graph requests leave nothing on the agent's long-lived signal", async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    const graph = { nodes: [{ version: 'a', payload: 'pa', metadata: {} }], edges: [] };
    mock.get('https://updates.example').intercept({ path: /^\/v1\/graph/ }).reply(200, graph).times(20);
    const client = createGraphClient({ baseUrl: 'https://updates.example', dispatcher: mock });
    const life = new AbortController();
    const q = { basearch: 'x86_64', stream: 's', osVersion: 'v', osChecksum: 'c', group: 'default', nodeUuid: 'u' };
    for (let i = 0; i < 20; i++) await client.fetchGraph(q, life.signal);
    expect(dependants(life.signal)).toBe(0);
    expect(getEventListeners(life.signal, 'abort')).toHaveLength(0);
    await mock.close();
  });
});
