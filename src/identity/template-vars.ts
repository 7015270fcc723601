// Bridges identity and config templating: the values `${basearch}`, `${group}`, `${platform}` and
// `${stream}` stand for in base URLs.
import type { TemplateVars } from '../config/template.js';
import type { Identity } from './identity.js';

/** The URL template values of a resolved identity (node_uuid is deliberately not one of them). */
export function identityTemplateVars(id: Identity): TemplateVars {
  return { basearch: id.basearch.value, group: id.group.value, platform: id.platform.value, stream: id.stream.value };
}
