// `${basearch}`, `${group}`, `${platform}`, `${stream}` substitution in base URLs (zincati §2.4):
// plain string replacement, unknown placeholders left as they are, values with `$`, `{` or `}`
// rejected so one substitution cannot inject another.
import { ConfigError } from './errors.js';

/** Values available to URL templates (node_uuid and OS version deliberately are not). */
export interface TemplateVars {
  /** GNU architecture name, e.g. `x86_64`. */
  readonly basearch: string;
  /** Reboot group. */
  readonly group: string;
  /** Platform id from the kernel command line, or null when the host has none. */
  readonly platform: string | null;
  /** Update stream, e.g. `sisyphus` or `p11`. */
  readonly stream: string;
}

const NAMES = ['basearch', 'group', 'platform', 'stream'] as const;

/** Expands the known placeholders in `url`; throws `CONFIG_TEMPLATE` for unsafe or missing values. */
export function expandUrlTemplate(url: string, vars: TemplateVars): string {
  let out = url;
  for (const name of NAMES) {
    const placeholder = `\${${name}}`;
    if (!out.includes(placeholder)) continue;
    const value = vars[name];
    if (value === null) {
      throw new ConfigError('CONFIG_TEMPLATE', `${url}: \${${name}} is used but this host has no ${name}`, { key: name });
    }
    if (/[${}]/.test(value)) {
      throw new ConfigError('CONFIG_TEMPLATE', `${url}: \${${name}}: value ${JSON.stringify(value)} contains '$', '{' or '}'`, { key: name });
    }
    out = out.split(placeholder).join(value);
  }
  return out;
}
