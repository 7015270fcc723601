// The resolved node identity: what the agent sends to the graph and FleetLock servers, each field
// with where it came from so `alt-updatectl identity` can explain it.
import type { NodeUuid } from './node-id.js';

/** Where an identity field came from. */
export type IdentitySource = 'config' | 'machine-id' | 'cmdline' | 'os-release' | 'deployment' | 'default' | 'runtime';

/** One identity value and its origin. */
export interface IdentityField<T> {
  /** The value. */
  readonly value: T;
  /** Which kind of input supplied it. */
  readonly source: IdentitySource;
  /** The exact origin for humans, e.g. a file path or `process.arch=x64`; null when self-evident. */
  readonly detail: string | null;
}

/** The node identity (deeply frozen). */
export interface Identity {
  /** App-specific machine id, or the `identity.node_uuid` override. */
  readonly nodeUuid: IdentityField<NodeUuid>;
  /** Reboot group. */
  readonly group: IdentityField<string>;
  /** GNU architecture name, e.g. `x86_64`. */
  readonly basearch: IdentityField<string>;
  /** `ignition.platform.id` from the kernel command line, or null. */
  readonly platform: IdentityField<string | null>;
  /** Update stream. */
  readonly stream: IdentityField<string>;
  /** Rollout wariness 0..1, or null to let the graph server decide. */
  readonly rolloutWariness: IdentityField<number | null>;
}

/** `identity --json` shape: TOML-style names, each `{ value, source, detail }`. */
export type IdentityJson = Record<
  'node_uuid' | 'group' | 'basearch' | 'platform' | 'stream' | 'rollout_wariness',
  { value: string | number | null; source: IdentitySource; detail: string | null }
>;

/** Converts an identity to the CLI JSON shape. */
export function identityToJson(id: Identity): IdentityJson {
  const f = <T extends string | number | null>(x: IdentityField<T>): { value: T; source: IdentitySource; detail: string | null } => ({
    value: x.value,
    source: x.source,
    detail: x.detail,
  });
  return {
    node_uuid: f(id.nodeUuid),
    group: f(id.group),
    basearch: f(id.basearch),
    platform: f(id.platform),
    stream: f(id.stream),
    rollout_wariness: f(id.rolloutWariness),
  };
}
