// Zincati's `find_update`, as a pure function over a decoded graph (zincati-behaviour.md §3.4-3.5).
// Fails towards "no update": every problem is either a reason in the decision or a GraphError.
import type { Release } from './release.js';
import type { Graph, GraphNode } from './parse.js';
import { GraphError, describeValue } from './errors.js';
import { KEY, readMeta } from './keys.js';

/** Why the decision came out as it did. */
export type SelectReason = 'update' | 'no_update' | 'booted_not_in_graph' | 'downgrade_rejected' | 'all_denied';

/** Dead-end state of the booted release. */
export interface DeadendStatus {
  /** True when the booted node carries `updates.deadend = "true"`. */
  readonly isDeadend: boolean;
  /** The reason (`(unknown reason)` when empty); null when not a dead-end. */
  readonly reason: string | null;
}

/** The outcome of one selection. */
export interface UpdateDecision {
  /** The booted release, or null when its payload is not in the graph. */
  readonly booted: Release | null;
  /** The release to stage, non-null only when `reason` is `update`. */
  readonly target: Release | null;
  /** Why. */
  readonly reason: SelectReason;
  /**
   * Dead-end state of the booted node. Meaningful only when `booted` is non-null: Zincati does not
   * evaluate (or change the MOTD for) a booted release that is not in the graph.
   */
  readonly deadend: DeadendStatus;
  /** Out-edge targets dropped by the denylist (Zincati's `ignored_update_targets` gauge). */
  readonly ignoredTargets: number;
  /** The best allowed target before the downgrade check (the rejected one for `downgrade_rejected`). */
  readonly candidate: Release | null;
  /**
   * Payloads of every allowed target from the booted node (out-edges minus the denylist): a staged
   * release missing here was withdrawn. Empty when the booted node is not in the graph.
   */
  readonly offered: readonly string[];
}

/** Payload schemes a node can carry (`org.fedoraproject.coreos.scheme`). */
export type PayloadScheme = 'checksum' | 'oci';

/** Facts the selection needs besides the graph. */
export interface SelectInput {
  /** Booted payload: the ostree commit checksum, or for scheme `oci` the image `<name>@sha256:<digest>`. */
  readonly bootedPayload: string;
  /**
   * How the host was booted: `oci` from a container image, else `checksum`. Only nodes of this scheme
   * can be the booted node or a target (Zincati). @default 'checksum'
   */
  readonly bootedScheme?: PayloadScheme;
  /** Payloads never to pick: local deployments (as Zincati) plus abandoned releases. */
  readonly denylist?: ReadonlySet<string> | readonly string[];
  /** `updates.allow_downgrade`. @default false */
  readonly allowDowngrade?: boolean;
}

// Rust's `u64::from_str` (Zincati) takes an optional `+`; we stop at 2^53-1 (exact in a JS number).
const AGE_INDEX = /^\+?[0-9]{1,16}$/;
const NOT_DEADEND: DeadendStatus = Object.freeze({ isDeadend: false, reason: null });

/** Orders releases as Zincati does: age_index, then version, then payload (code-unit order). */
export function compareReleases(a: Release, b: Release): number {
  if (a.ageIndex !== b.ageIndex) return a.ageIndex < b.ageIndex ? -1 : 1;
  if (a.version !== b.version) return a.version < b.version ? -1 : 1;
  if (a.payload !== b.payload) return a.payload < b.payload ? -1 : 1;
  return 0;
}

function schemeOf(node: GraphNode): string | null {
  return readMeta(node.metadata, KEY.scheme)?.value ?? null;
}

// An `oci` payload is a pullspec pinned by digest (Zincati refuses a tag or a bare digest).
const OCI_PAYLOAD = /^[^@\s]+@sha256:[0-9a-f]{64}$/;

/** The image name of an `oci` payload (`<registry>/<repo>`), or null for a checksum payload. */
export function payloadImage(payload: string): string | null {
  const at = payload.indexOf('@');
  return at > 0 ? payload.slice(0, at) : null;
}

/**
 * Turns graph node `index` into a `Release`; throws `GRAPH_NODE_PARSE` (`client_failed_node_parsing`)
 * naming the field when the version or payload is empty, the scheme is neither `checksum` nor `oci`, an
 * `oci` payload is not `<name>@sha256:<digest>`, or age_index is not a decimal integer.
 */
export function releaseAt(graph: Graph, index: number): Release {
  const node = graph.nodes[index];
  if (node === undefined) throw new GraphError('GRAPH_NODE_LOOKUP', `no node at index ${index}`, { field: `nodes[${index}]` });
  // Zincati's `Release::from_cincinnati` refuses empty strings here, not when decoding the graph.
  if (node.version === '') throw new GraphError('GRAPH_NODE_PARSE', 'empty version', { field: `nodes[${index}].version` });
  if (node.payload === '') throw new GraphError('GRAPH_NODE_PARSE', 'empty payload (checksum)', { field: `nodes[${index}].payload` });
  const at = `nodes[${index}].metadata`;
  const scheme = readMeta(node.metadata, KEY.scheme);
  if (scheme === null) {
    throw new GraphError('GRAPH_NODE_PARSE', 'missing (expected "checksum" or "oci")', { field: `${at}.org.fedoraproject.coreos.scheme` });
  }
  if (scheme.value !== 'checksum' && scheme.value !== 'oci') {
    throw new GraphError('GRAPH_NODE_PARSE', `expected "checksum" or "oci", got ${describeValue(scheme.value)}`, { field: `${at}.${scheme.key}` });
  }
  if (scheme.value === 'oci' && !OCI_PAYLOAD.test(node.payload)) {
    throw new GraphError('GRAPH_NODE_PARSE', `expected an image pullspec with digest (<name>@sha256:<64 hex>), got ${describeValue(node.payload)}`, {
      field: `nodes[${index}].payload`,
    });
  }
  const age = readMeta(node.metadata, KEY.ageIndex);
  if (age === null) {
    throw new GraphError('GRAPH_NODE_PARSE', 'missing (expected a decimal unsigned integer string)', {
      field: `${at}.org.fedoraproject.coreos.releases.age_index`,
    });
  }
  if (!AGE_INDEX.test(age.value) || !Number.isSafeInteger(Number(age.value))) {
    throw new GraphError('GRAPH_NODE_PARSE', `expected a decimal unsigned integer string, got ${describeValue(age.value)}`, {
      field: `${at}.${age.key}`,
    });
  }
  const release: Release = { version: node.version, payload: node.payload, ageIndex: Number(age.value) };
  // `scheme` is spelled only for images, so checksum releases stay exactly as they always were.
  return scheme.value === 'oci' ? { ...release, scheme: 'oci' } : release;
}

/** Reads the dead-end state of a node (`updates.deadend` must be exactly `"true"`). */
export function deadendOf(node: GraphNode): DeadendStatus {
  if (readMeta(node.metadata, KEY.deadend)?.value !== 'true') return NOT_DEADEND;
  const reason = readMeta(node.metadata, KEY.deadendReason)?.value ?? '';
  return { isDeadend: true, reason: reason === '' ? '(unknown reason)' : reason };
}

/**
 * Chooses the next release (Zincati `find_update`). Throws only `GraphError` (a booted or target node
 * that does not parse fails the whole check, as in Zincati); otherwise returns a decision.
 */
export function selectUpdate(graph: Graph, input: SelectInput): UpdateDecision {
  const { nodes, edges } = graph;
  const scheme = input.bootedScheme ?? 'checksum';
  let bootedIndex = -1;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.payload === input.bootedPayload && schemeOf(n) === scheme) {
      bootedIndex = i;
      break;
    }
  }
  if (bootedIndex < 0) {
    return { booted: null, target: null, reason: 'booted_not_in_graph', deadend: NOT_DEADEND, ignoredTargets: 0, candidate: null, offered: [] };
  }
  const booted = releaseAt(graph, bootedIndex);
  const deadend = deadendOf(nodes[bootedIndex]!);
  const deny = input.denylist instanceof Set ? input.denylist : new Set(input.denylist ?? []);

  let best: Release | null = null;
  const offered: string[] = [];
  let seen = 0;
  let ignored = 0;
  for (let i = 0, n = edges.length; i < n; i++) {
    const e = edges[i]!;
    if (e[0] !== bootedIndex) continue;
    const target = releaseAt(graph, e[1]); // every target must parse, even a denied one (Zincati)
    // A node of the other scheme is never a target: an image host cannot deploy a bare commit, nor
    // an ostree host an image (Zincati).
    if ((target.scheme ?? 'checksum') !== scheme) continue;
    seen++;
    if (deny.has(target.payload)) {
      ignored++;
      continue;
    }
    offered.push(target.payload);
    if (best === null || compareReleases(target, best) > 0) best = target;
  }
  const base = { booted, deadend, ignoredTargets: ignored, candidate: best, offered };
  if (seen === 0) return { ...base, target: null, reason: 'no_update' };
  if (best === null) return { ...base, target: null, reason: 'all_denied' };
  if (compareReleases(best, booted) <= 0 && input.allowDowngrade !== true) {
    return { ...base, target: null, reason: 'downgrade_rejected' };
  }
  return { ...base, target: best, reason: 'update' };
}

/**
 * True when `target` should replace an already staged release: a different release that orders
 * after it. Zincati keeps the first staged release forever (coreos/zincati#928); we re-stage.
 */
export function shouldReplaceStaged(staged: Release, target: Release | null): boolean {
  return target !== null && target.payload !== staged.payload && compareReleases(target, staged) > 0;
}
