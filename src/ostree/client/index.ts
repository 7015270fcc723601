// The rpm-ostree D-Bus client (the agent's OstreePort adapter).
export { createOstreeClient, confirmStaged, RPMOSTREE_BUS_NAME } from './client.js';
export type { OstreeClient, OstreeClientOptions, StageOptions } from './client.js';
export { OSTREE_CLIENT_CODES, OstreeClientError, OstreeBadReplyError, OstreeStageMismatchError } from './errors.js';
export type { OstreeClientCode, RemoteError, StageMismatchField } from './errors.js';
export { parseDeployment, parseDeploymentSet } from './parse.js';
export { DEFAULT_BUSY_RETRY, type BusyRetryPolicy } from './remote-errors.js';
