// Adapts the Cincinnati client + pure selection (src/graph) to the agent's GraphPort.
import type { GraphClient, GraphQuery } from '../../graph/client.js';
import { selectUpdate } from '../../graph/select.js';
import { deploymentPayload } from '../../ostree/deployment.js';
import type { Identity } from '../../identity/identity.js';
import type { GraphCheck, GraphFacts, GraphPort, Metrics } from '../ports.js';

/**
 * Builds the agent's graph port: every check sends the booted OS facts and this node's identity,
 * then runs Zincati's selection on the decoded graph. Errors are the client's typed `GraphError`s.
 */
export function graphPort(client: GraphClient, identity: Identity, metrics: Metrics): GraphPort {
  return {
    async check(facts: GraphFacts, signal?: AbortSignal): Promise<GraphCheck> {
      // An image-booted host is known to the graph by its image pullspec with digest (Zincati).
      const oci = facts.booted.image != null;
      const payload = deploymentPayload(facts.booted);
      const q: GraphQuery = {
        basearch: identity.basearch.value,
        stream: identity.stream.value,
        osVersion: facts.booted.version ?? '',
        osChecksum: payload,
        oci,
        group: identity.group.value,
        nodeUuid: identity.nodeUuid.value,
        platform: identity.platform.value,
        rolloutWariness: identity.rolloutWariness.value,
      };
      const graph = await client.fetchGraph(q, signal);
      metrics.graphSeen({ nodes: graph.nodes.length, edges: graph.edges.length });
      const decision = selectUpdate(graph, {
        bootedPayload: payload,
        bootedScheme: oci ? 'oci' : 'checksum',
        denylist: facts.denylist,
        allowDowngrade: facts.allowDowngrade,
      });
      metrics.ignoredTargets(decision.ignoredTargets);
      const known = decision.booted !== null;
      return {
        target: decision.target,
        deadend: known ? decision.deadend : null,
        offered: known ? new Set(decision.offered) : null,
        bootedInGraph: known,
      };
    },
  };
}
