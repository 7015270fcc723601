import { describe, expect, it } from 'vitest';
import { graphPort } from '../../../src/agent/adapters/graph.js';
import type { GraphClient, GraphQuery } from '../../../src/graph/client.js';
import { graphUrl } from '../../../src/graph/client.js';
import { GraphError } from '../../../src/graph/errors.js';
import { parseGraph, type Graph } from '../../../src/graph/parse.js';
import { describeRelease } from '../../../src/graph/release.js';
import { selectUpdate } from '../../../src/graph/select.js';
import type { Identity } from '../../../src/identity/identity.js';
import type { Deployment } from '../../../src/ostree/deployment.js';
import { countingMetricsForTest } from '../agent/fixtures.js';

const F = 'org.fedoraproject.coreos.';
const dg = (c: string): string => `sha256:${c.repeat(64)}`;
const IMG = 'registry.example/alt/atomic';
const ck = (c: string): string => c.repeat(64);

/** Nodes as [version, age, scheme, payload]. */
function graph(nodes: [string, number, string, string][], edges: [number, number][]): Graph {
  return parseGraph({
    nodes: nodes.map(([version, age, scheme, payload]) => ({ version, payload, metadata: { [`${F}scheme`]: scheme, [`${F}releases.age_index`]: String(age) } })),
    edges,
  });
}

describe('selection over oci and checksum nodes (Zincati)', () => {
  // Both schemes side by side, as a server migrating its fleet serves them.
  const mixed = graph(
    [
      ['1', 1, 'checksum', ck('a')],
      ['1', 1, 'oci', `${IMG}@${dg('a')}`],
      ['2', 2, 'checksum', ck('b')],
      ['2', 2, 'oci', `${IMG}@${dg('b')}`],
      ['3', 3, 'checksum', ck('c')],
    ],
    [[1, 3], [1, 4], [0, 2], [0, 3]],
  );

  it('finds the booted node of an image host by its pullspec with digest and picks an oci target', () => {
    const d = selectUpdate(mixed, { bootedPayload: `${IMG}@${dg('a')}`, bootedScheme: 'oci' });
    expect(d.reason).toBe('update');
    expect(d.booted).toEqual({ version: '1', payload: `${IMG}@${dg('a')}`, ageIndex: 1, scheme: 'oci' });
    expect(d.target).toEqual({ version: '2', payload: `${IMG}@${dg('b')}`, ageIndex: 2, scheme: 'oci' });
    // The newer checksum node 3 is an out-edge too, but of the other scheme: never a target, never offered.
    expect(d.offered).toEqual([`${IMG}@${dg('b')}`]);
  });

  it('never offers an oci node to an ostree host', () => {
    const d = selectUpdate(mixed, { bootedPayload: ck('a') });
    expect(d.target).toEqual({ version: '2', payload: ck('b'), ageIndex: 2 });
    expect(d.offered).toEqual([ck('b')]);
  });

  it('does not match a checksum node for an image host, even with the same payload text', () => {
    const g = graph([['1', 1, 'checksum', `${IMG}@${dg('a')}`]], []);
    expect(selectUpdate(g, { bootedPayload: `${IMG}@${dg('a')}`, bootedScheme: 'oci' }).reason).toBe('booted_not_in_graph');
  });

  it('gives no update to a fresh install whose digest the graph does not list', () => {
    const d = selectUpdate(mixed, { bootedPayload: `${IMG}@${dg('f')}`, bootedScheme: 'oci' });
    expect(d).toMatchObject({ reason: 'booted_not_in_graph', booted: null, target: null, offered: [] });
  });

  it('offers a target under another image name (a rebase)', () => {
    const g = graph([['1', 1, 'oci', `${IMG}@${dg('a')}`], ['2', 2, 'oci', `registry.example/alt/atomic-nvidia@${dg('b')}`]], [[0, 1]]);
    expect(selectUpdate(g, { bootedPayload: `${IMG}@${dg('a')}`, bootedScheme: 'oci' }).target?.payload).toBe(`registry.example/alt/atomic-nvidia@${dg('b')}`);
  });

  it.each([
    ['a tag instead of a digest', `${IMG}:stable`],
    ['a bare digest', dg('b')],
    ['a short digest', `${IMG}@sha256:abc`],
  ])('fails the check for an oci target payload that is %s', (_what, payload) => {
    const g = graph([['1', 1, 'oci', `${IMG}@${dg('a')}`], ['2', 2, 'oci', payload]], [[0, 1]]);
    try {
      selectUpdate(g, { bootedPayload: `${IMG}@${dg('a')}`, bootedScheme: 'oci' });
      expect.unreachable();
    } catch (err: unknown) {
      expect(err).toBeInstanceOf(GraphError);
      expect(err).toMatchObject({ kind: 'client_failed_node_parsing', field: 'nodes[1].payload' });
    }
  });

  it('still fails the check for a target of an unknown scheme', () => {
    const g = graph([['1', 1, 'oci', `${IMG}@${dg('a')}`], ['2', 2, 'tarball', 'x']], [[0, 1]]);
    expect(() => selectUpdate(g, { bootedPayload: `${IMG}@${dg('a')}`, bootedScheme: 'oci' })).toThrow(/expected "checksum" or "oci"/);
  });

  it('describes an image release by its digest', () => {
    expect(describeRelease({ version: '2', payload: `${IMG}@${dg('b')}`, ageIndex: 2, scheme: 'oci' })).toBe(`2 (${IMG}@bbbbbbbbbbbb)`);
  });
});

describe('graph query and adapter for an image-booted host', () => {
  const q: GraphQuery = { basearch: 'x86_64', stream: 's', osVersion: '1', osChecksum: `${IMG}@${dg('a')}`, group: 'g', nodeUuid: 'u' };

  it('sends oci=true only when booted from an image', () => {
    expect(graphUrl('http://h/', { ...q, oci: true }).searchParams.get('oci')).toBe('true');
    expect(graphUrl('http://h/', q).searchParams.has('oci')).toBe(false);
  });

  const field = <T>(value: T) => ({ value, source: 'default' as const, detail: null });
  const identity = {
    nodeUuid: field('u'.repeat(32)),
    group: field('default'),
    basearch: field('x86_64'),
    platform: field(null),
    stream: field('stable'),
    rolloutWariness: field(null),
  } as unknown as Identity;
  const base: Deployment = { id: 'x', osname: 'alt', checksum: ck('9'), version: '1', origin: null, stream: null, timestampMs: 0, serial: 0, booted: true, staged: false, finalizationLocked: false, pinned: false };

  function port(g: Graph): { sent: GraphQuery[]; check: ReturnType<typeof graphPort>['check'] } {
    const sent: GraphQuery[] = [];
    const client: GraphClient = {
      fetchGraph: (query) => {
        sent.push(query);
        return Promise.resolve(g);
      },
      fetchGraphUrl: () => Promise.reject(new Error('unused')),
      close: () => Promise.resolve(),
    };
    return { sent, check: graphPort(client, identity, countingMetricsForTest()).check };
  }

  it('passes the image pullspec with digest as os_checksum and to selection', async () => {
    const g = graph([['1', 1, 'oci', `${IMG}@${dg('a')}`], ['2', 2, 'oci', `${IMG}@${dg('b')}`]], [[0, 1]]);
    const p = port(g);
    const booted: Deployment = { ...base, image: { reference: `docker://${IMG}:stable`, digest: dg('a'), pullspec: `${IMG}@${dg('a')}` } };
    const r = await p.check({ booted, denylist: new Set(), allowDowngrade: false });
    expect(p.sent[0]).toMatchObject({ osChecksum: `${IMG}@${dg('a')}`, oci: true });
    expect(r.target?.payload).toBe(`${IMG}@${dg('b')}`);
    expect(r.bootedInGraph).toBe(true);
  });

  it('keeps the ostree checksum for a commit-booted host and reports a booted payload the graph lacks', async () => {
    const p = port(graph([['1', 1, 'checksum', ck('a')]], []));
    const r = await p.check({ booted: base, denylist: new Set(), allowDowngrade: false });
    expect(p.sent[0]).toMatchObject({ osChecksum: ck('9'), oci: false });
    expect(r).toMatchObject({ target: null, deadend: null, offered: null, bootedInGraph: false });
  });
});
