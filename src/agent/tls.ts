// The agent's TLS material, read once at start-up from the settings (src/tls does the reading and
// checking): what the graph and FleetLock clients trust and what the FleetLock client presents.
// A bad file becomes a ConfigError naming the key and the file, so the agent stops at start-up.
import type { Logger } from '../common/logger.js';
import { ConfigError } from '../config/errors.js';
import type { Settings } from '../config/types.js';
import { TlsFileError } from '../tls/errors.js';
import { loadClientTls, loadHostTrust, type ClientTls, type ReadFile } from '../tls/trust.js';

/** What each of the agent's HTTP clients uses over https. */
export interface AgentTls {
  /** The graph client's trust. */
  readonly graph: ClientTls;
  /** The FleetLock client's trust and client certificate. */
  readonly fleetLock: ClientTls;
}

/**
 * Finds the host's CA store under `root` and reads the configured CA, certificate and key files.
 * Throws `CONFIG_INVALID` naming the key and the file of a file that cannot be used.
 */
export async function loadAgentTls(opts: { root: string; settings: Settings; logger: Logger; readFile?: ReadFile }): Promise<AgentTls> {
  const { settings, logger } = opts;
  const read = opts.readFile ? { readFile: opts.readFile } : {};
  const host = await loadHostTrust({ root: opts.root, ...read });
  if (host.path === null) logger.warn({}, "no host CA bundle found; trusting Node's bundled CA list");
  else logger.debug({ caBundle: host.path }, `trusting the host CA store ${host.path}`);
  const fl = settings.updates.fleetLock;
  const keyed = (key: string, file: string | null): { key: string; file: string } | null => (file === null ? null : { key, file });
  try {
    return {
      graph: await loadClientTls(host, { ca: keyed('cincinnati.ca_file', settings.cincinnati.caFile) }, opts.readFile),
      fleetLock: await loadClientTls(
        host,
        {
          ca: keyed('updates.fleet_lock.ca_file', fl.caFile),
          cert: keyed('updates.fleet_lock.client_cert_file', fl.clientCertFile),
          key: keyed('updates.fleet_lock.client_key_file', fl.clientKeyFile),
        },
        opts.readFile,
      ),
    };
  } catch (err: unknown) {
    if (err instanceof TlsFileError) throw new ConfigError('CONFIG_INVALID', err.message, { key: err.key, cause: err });
    throw err;
  }
}
