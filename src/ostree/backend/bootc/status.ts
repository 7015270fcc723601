// Strict parser of `bootc status --format=json --format-version=1` (bootc's host-v1 schema,
// test/fixtures/bootc/host-v1.schema.json) into the driver's own types. bootc's JSON never leaves
// this folder. Unknown keys are ignored (bootc adds fields); a known key of the wrong type, or a
// missing one the driver needs, is a BootcStatusError naming the field.
import { BootcStatusError } from './errors.js';

/**
 * How bootc verifies an image (`ImageSignature`). An absent signature is read as the containers
 * policy, marked `implied` (bootc writes none for `switch` without `--enforce-container-sigpolicy`;
 * the pull still goes through policy.json): a rebase repeats only an explicit `containerPolicy`.
 */
export type BootcSignature =
  | { readonly kind: 'containerPolicy'; readonly implied?: true }
  | { readonly kind: 'insecure' }
  | { readonly kind: 'ostreeRemote'; readonly remote: string };

/** The transports bootc's `ImageReference.transport` names (ostree-ext's `Transport`). */
export const BOOTC_TRANSPORTS = ['registry', 'oci', 'oci-archive', 'containers-storage', 'dir', 'docker-daemon'] as const;

/** One of {@link BOOTC_TRANSPORTS}. */
export type BootcTransport = (typeof BOOTC_TRANSPORTS)[number];

/** An image reference as bootc tracks it. */
export interface BootcImageRef {
  /** e.g. `registry.example/alt/atomic:stable`. */
  readonly image: string;
  readonly transport: BootcTransport;
  readonly signature: BootcSignature;
}

/** The image a boot entry was made from. */
export interface BootcImage {
  readonly ref: BootcImageRef;
  /** Manifest digest, `sha256:<64 hex>`. */
  readonly digest: string;
  readonly version: string | null;
  /** Build time in seconds since the epoch, or null. */
  readonly timestampSecs: number | null;
  readonly architecture: string | null;
}

/** One boot entry (ostree-backed). */
export interface BootcEntry {
  /** Null on a deployment not made from an image (an ostree-ref host). */
  readonly image: BootcImage | null;
  readonly checksum: string;
  readonly serial: number;
  /** Stateroot; older bootc omits it. */
  readonly stateroot: string | null;
  readonly pinned: boolean;
  /** rpm-ostree layering in use: bootc must not mutate the host. */
  readonly incompatible: boolean;
  /** Staged with `--download-only` (finalization locked). */
  readonly locked: boolean;
}

/** The host as bootc reports it. */
export interface BootcHost {
  readonly booted: BootcEntry | null;
  readonly staged: BootcEntry | null;
  readonly rollback: BootcEntry | null;
  readonly others: readonly BootcEntry[];
  readonly rollbackQueued: boolean;
}

type Obj = Record<string, unknown>;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

function obj(v: unknown, where: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BootcStatusError(where, 'expected an object');
  return v as Obj;
}

function optObj(v: unknown, where: string): Obj | null {
  return v === undefined || v === null ? null : obj(v, where);
}

function str(o: Obj, key: string, where: string, pattern?: RegExp, what?: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new BootcStatusError(`${where}.${key}`, v === undefined ? 'missing' : 'expected a non-empty string');
  if (pattern && !pattern.test(v)) throw new BootcStatusError(`${where}.${key}`, `expected ${what ?? String(pattern)}, got ${JSON.stringify(v)}`);
  return v;
}

function optStr(o: Obj, key: string, where: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new BootcStatusError(`${where}.${key}`, 'expected a string or null');
  return v;
}

function bool(o: Obj, key: string, where: string, dflt?: boolean): boolean {
  const v = o[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'boolean') throw new BootcStatusError(`${where}.${key}`, v === undefined ? 'missing' : 'expected a boolean');
  return v;
}

function signature(v: unknown, where: string): BootcSignature {
  if (v === undefined || v === null) return { kind: 'containerPolicy', implied: true };
  if (v === 'containerPolicy') return { kind: 'containerPolicy' };
  if (v === 'insecure') return { kind: 'insecure' };
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Obj;
    if (Object.keys(o).length === 1 && typeof o.ostreeRemote === 'string' && o.ostreeRemote !== '') return { kind: 'ostreeRemote', remote: o.ostreeRemote };
  }
  throw new BootcStatusError(where, `expected "containerPolicy", "insecure" or {"ostreeRemote": …}, got ${JSON.stringify(v)}`);
}

/** Parses an `ImageReference` object (`spec.image`, `….image.image`). */
export function parseImageRef(v: unknown, where: string): BootcImageRef {
  const o = obj(v, where);
  const transport = str(o, 'transport', where);
  if (!(BOOTC_TRANSPORTS as readonly string[]).includes(transport)) {
    throw new BootcStatusError(`${where}.transport`, `unknown transport ${JSON.stringify(transport)}`);
  }
  return { image: str(o, 'image', where), transport: transport as BootcTransport, signature: signature(o.signature, `${where}.signature`) };
}

function timestamp(o: Obj, where: string): number | null {
  const v = optStr(o, 'timestamp', where);
  if (v === null) return null;
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms)) throw new BootcStatusError(`${where}.timestamp`, `expected an RFC 3339 date-time, got ${JSON.stringify(v)}`);
  return Math.floor(ms / 1000);
}

function image(v: unknown, where: string): BootcImage | null {
  const o = optObj(v, where);
  if (o === null) return null;
  return {
    ref: parseImageRef(o.image, `${where}.image`),
    digest: str(o, 'imageDigest', where, DIGEST, 'sha256:<64 hex>'),
    version: optStr(o, 'version', where),
    timestampSecs: timestamp(o, where),
    architecture: optStr(o, 'architecture', where),
  };
}

function entry(v: unknown, where: string): BootcEntry | null {
  const o = optObj(v, where);
  if (o === null) return null;
  const ostree = optObj(o.ostree, `${where}.ostree`);
  if (ostree === null) throw new BootcStatusError(`${where}.ostree`, 'missing (only ostree-backed bootc hosts are supported)');
  const serial = ostree.deploySerial;
  if (typeof serial !== 'number' || !Number.isInteger(serial) || serial < 0) {
    throw new BootcStatusError(`${where}.ostree.deploySerial`, serial === undefined ? 'missing' : 'expected an integer >= 0');
  }
  return {
    image: image(o.image, `${where}.image`),
    checksum: str(ostree, 'checksum', `${where}.ostree`, HEX64, '64 lowercase hex digits'),
    serial,
    stateroot: optStr(ostree, 'stateroot', `${where}.ostree`),
    pinned: bool(o, 'pinned', where),
    incompatible: bool(o, 'incompatible', where),
    // The published schema calls it downloadOnly; an earlier bootc fixture spells it finalizationLocked.
    locked: bool(o, 'downloadOnly', where, false) || bool(o, 'finalizationLocked', where, false),
  };
}

/** Parses bootc's host document (already JSON-decoded). */
export function parseBootcHost(doc: unknown): BootcHost {
  const root = obj(doc, '(document)');
  const api = str(root, 'apiVersion', '(document)');
  if (!api.startsWith('org.containers.bootc/')) throw new BootcStatusError('apiVersion', `expected org.containers.bootc/…, got ${JSON.stringify(api)}`);
  if (str(root, 'kind', '(document)') !== 'BootcHost') throw new BootcStatusError('kind', `expected "BootcHost", got ${JSON.stringify(root.kind)}`);
  const status = optObj(root.status, 'status') ?? {};
  const others = status.otherDeployments ?? [];
  if (!Array.isArray(others)) throw new BootcStatusError('status.otherDeployments', 'expected an array');
  return {
    booted: entry(status.booted, 'status.booted'),
    staged: entry(status.staged, 'status.staged'),
    rollback: entry(status.rollback, 'status.rollback'),
    others: others.map((e, i) => entry(e, `status.otherDeployments[${i}]`)).filter((e): e is BootcEntry => e !== null),
    rollbackQueued: bool(status, 'rollbackQueued', 'status', false),
  };
}

/** Parses the text `bootc status --format=json` printed. */
export function parseBootcStatusText(text: string): BootcHost {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err: unknown) {
    throw new BootcStatusError('(document)', `not JSON: ${(err as Error).message}`);
  }
  return parseBootcHost(doc);
}
