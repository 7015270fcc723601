// Public API of the identity capability (re-exports only).
export { resolveIdentity, type ResolveIdentityOptions } from './resolve.js';
export { identityToJson, type Identity, type IdentityField, type IdentityJson, type IdentitySource } from './identity.js';
export { IdentityError, IDENTITY_ERROR_CODES, type IdentityErrorCode } from './errors.js';
export { appSpecificId, parseMachineId, ZINCATI_APP_ID, type NodeUuid } from './node-id.js';
export { parseOsRelease, isAltLinux, streamFromOsRelease } from './os-release.js';
export { basearchFromNodeArch, platformFromCmdline } from './platform.js';
export { identityTemplateVars } from './template-vars.js';
