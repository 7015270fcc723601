// Adapts the rpm-ostree D-Bus client (src/ostree/client) to the agent's OstreePort, counting every
// deployments query, failed or not (Zincati's rpm_ostree_status metrics). The agent checks the
// staged stream itself (wrong stream: clean up and denylist for good), so the client must not turn
// that case into an ordinary stage failure first.
import type { OstreeClient } from '../../ostree/client/index.js';
import type { Metrics, OstreePort } from '../ports.js';

/** Wraps `client` for the agent; errors are rethrown unchanged. */
export function ostreePort(client: OstreeClient, metrics: Metrics): OstreePort {
  return {
    async status() {
      metrics.statusAttempt();
      try {
        return await client.status();
      } catch (err: unknown) {
        metrics.statusFailure();
        throw err;
      }
    },
    registerDriver: () => client.registerDriver(),
    stage: (release, opts, signal) => client.stage(release, { ...opts, confirmStream: false }, signal),
    finalize: (checksum, opts) => client.finalize(checksum, opts),
    cleanupPending: () => client.cleanupPending(),
  };
}
