// Pure graph builder: ref histories + updates policies -> one Cincinnati graph per (basearch, stream),
// with Fedora's edge rules (protocols-and-alt-linux.md §3.5) applied to each ref's chain.
import type { GraphNode } from '../graph/parse.js';
import { fedoraKey, KEY } from '../graph/keys.js';
import type { RefHistory } from './repo.js';
import type { Rollout, StreamPolicy } from './policy.js';

/** A built graph for one (basearch, stream) plus what per-request throttling needs. */
export interface BuiltGraph {
  /** Architecture. */
  readonly basearch: string;
  /** Stream. */
  readonly stream: string;
  /** `oci` for a graph of registry images (served for `oci=true`); `checksum` for ostree commits. */
  readonly scheme?: 'oci';
  /** Nodes, chain by chain, oldest first within a chain. */
  readonly nodes: readonly GraphNode[];
  /** Static edges (before throttling), dead-end sources already pruned. */
  readonly edges: readonly (readonly [number, number])[];
  /** Rollout nodes and their parameters. */
  readonly rollouts: readonly { readonly index: number; readonly rollout: Rollout }[];
}

/** Builder options. */
export interface BuildOptions {
  /**
   * Treat commits missing from the policy file as completed rollouts (`start_percentage` 1.0), so
   * every commit is an update target without listing it. Fedora semantics when false. @default false
   */
  readonly implicitRollout?: boolean;
}

/** Build result: graphs keyed `<basearch>/<stream>`, plus human warnings (skipped commits). */
export interface BuildResult {
  /** Graphs by `graphKey(basearch, stream, oci)`. */
  readonly graphs: ReadonlyMap<string, BuiltGraph>;
  /** Things an operator should know, e.g. a commit without `version`. */
  readonly warnings: readonly string[];
}

const COMPLETED: Rollout = Object.freeze({ startEpoch: 0, startPercentage: 1, durationMinutes: null });

/** The key of a graph: `<basearch>/<stream>`, prefixed `oci:` for image graphs (Fedora serves both). */
export function graphKey(basearch: string, stream: string, oci: boolean): string {
  return `${oci ? 'oci:' : ''}${basearch}/${stream}`;
}

/** Orders a stream's refs: the nameless ref first, then named refs by name. */
function chainOrder(a: RefHistory, b: RefHistory): number {
  if (a.name === b.name) return 0;
  if (a.name === null) return -1;
  if (b.name === null) return 1;
  return a.name < b.name ? -1 : 1;
}

/**
 * Builds every graph. Each ref is a separate chain; a commit reachable from several refs appears once,
 * in the first chain that has it (see `chainOrder`). `age_index` is the commit's position in its
 * ref's full history, so it grows with commit order.
 */
export function buildGraphs(histories: readonly RefHistory[], policies: ReadonlyMap<string, StreamPolicy>, opts: BuildOptions = {}): BuildResult {
  const byStream = new Map<string, RefHistory[]>();
  for (const h of histories) {
    const key = graphKey(h.basearch, h.stream, h.scheme === 'oci');
    byStream.set(key, [...(byStream.get(key) ?? []), h]);
  }
  const graphs = new Map<string, BuiltGraph>();
  const warnings: string[] = [];
  for (const [key, refs] of byStream) {
    const first = refs[0]!;
    const policy = policies.get(first.stream)?.releases ?? new Map();
    const nodes: GraphNode[] = [];
    const edges: [number, number][] = [];
    const rollouts: { index: number; rollout: Rollout }[] = [];
    const seen = new Set<string>();
    for (const h of [...refs].sort(chainOrder)) {
      const chain: { index: number; barrier: boolean; rollout: boolean; deadend: boolean }[] = [];
      h.commits.forEach((c, age) => {
        if (seen.has(c.checksum)) return;
        seen.add(c.checksum);
        if (c.version === null || c.version === '') {
          warnings.push(h.scheme === 'oci' ? `${h.ref}: image ${c.checksum} has no version label: skipped` : `${h.ref}: commit ${c.checksum} has no 'version' metadata: skipped`);
          return;
        }
        const p = policy.get(c.version);
        const rollout = p?.rollout ?? (p === undefined && opts.implicitRollout ? COMPLETED : null);
        const metadata: Record<string, string> = {
          [fedoraKey(KEY.scheme)]: h.scheme ?? 'checksum',
          [fedoraKey(KEY.ageIndex)]: String(age),
        };
        if (p?.barrier) {
          metadata[fedoraKey(KEY.barrier)] = 'true';
          metadata[fedoraKey(KEY.barrierReason)] = p.barrier;
        }
        if (p?.deadend) {
          metadata[fedoraKey(KEY.deadend)] = 'true';
          metadata[fedoraKey(KEY.deadendReason)] = p.deadend;
        }
        if (rollout) {
          metadata[fedoraKey(KEY.rollout)] = 'true';
          metadata[fedoraKey(KEY.startEpoch)] = String(rollout.startEpoch);
          metadata[fedoraKey(KEY.startValue)] = String(rollout.startPercentage);
          if (rollout.durationMinutes !== null) metadata[fedoraKey(KEY.durationMinutes)] = String(rollout.durationMinutes);
        }
        const index = nodes.length;
        nodes.push({ version: c.version, payload: c.checksum, metadata });
        if (rollout) rollouts.push({ index, rollout });
        chain.push({ index, barrier: p?.barrier != null, rollout: rollout !== null, deadend: p?.deadend != null });
      });
      // Fedora's rules: a rollout gets edges from every chain node since the previous barrier; a
      // barrier that is not a rollout gets the same; other nodes get no incoming edges.
      let prevBarrier = 0;
      chain.forEach((n, pos) => {
        if (n.rollout || n.barrier) {
          for (let i = prevBarrier; i < pos; i++) edges.push([chain[i]!.index, n.index]);
        }
        if (n.barrier) prevBarrier = pos;
      });
      const deadends = new Set(chain.filter((n) => n.deadend).map((n) => n.index));
      if (deadends.size > 0) {
        for (let i = edges.length - 1; i >= 0; i--) if (deadends.has(edges[i]![0])) edges.splice(i, 1);
      }
    }
    graphs.set(key, { basearch: first.basearch, stream: first.stream, ...(first.scheme === 'oci' ? { scheme: 'oci' as const } : {}), nodes, edges, rollouts });
  }
  return { graphs, warnings };
}
