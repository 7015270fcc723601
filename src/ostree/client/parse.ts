// Parses rpm-ostree's deployment dicts (`aa{sv}` / `a{sv}`, as dbus-next hands them over) into the
// domain types, once, at the boundary. Strict: a wrong type or a missing required key is an
// OstreeBadReplyError naming the field. Unknown keys are ignored (the real dict has ~40).
import { imageName, isLocalImageReference, streamFromRef, type Deployment, type DeploymentImage, type DeploymentSet } from '../deployment.js';
import { OstreeBadReplyError } from './errors.js';

interface VariantLike {
  readonly signature: string;
  readonly value: unknown;
}

function isVariant(v: unknown): v is VariantLike {
  return typeof v === 'object' && v !== null && typeof (v as { signature?: unknown }).signature === 'string' && 'value' in v;
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const HEX64 = /^[0-9a-f]{64}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

class DictReader {
  constructor(
    private readonly dict: Record<string, unknown>,
    private readonly where: string,
  ) {}

  private variant(key: string, signature: string): unknown {
    const v = this.dict[key];
    if (v === undefined) return undefined;
    if (!isVariant(v)) throw new OstreeBadReplyError(`${this.where}.${key}`, 'expected a variant');
    if (v.signature !== signature) {
      throw new OstreeBadReplyError(`${this.where}.${key}`, `expected D-Bus type '${signature}', got '${v.signature}'`);
    }
    return v.value;
  }

  private required(key: string, signature: string): unknown {
    const v = this.variant(key, signature);
    if (v === undefined) throw new OstreeBadReplyError(`${this.where}.${key}`, 'missing');
    return v;
  }

  str(key: string): string | null {
    const v = this.variant(key, 's');
    if (v === undefined) return null;
    if (typeof v !== 'string') throw new OstreeBadReplyError(`${this.where}.${key}`, 'expected a string');
    return v;
  }

  requiredStr(key: string, pattern?: RegExp, what?: string): string {
    const v = this.required(key, 's');
    if (typeof v !== 'string' || v === '') throw new OstreeBadReplyError(`${this.where}.${key}`, 'expected a non-empty string');
    if (pattern && !pattern.test(v)) throw new OstreeBadReplyError(`${this.where}.${key}`, `expected ${what ?? String(pattern)}, got '${v}'`);
    return v;
  }

  bool(key: string, dflt: boolean | undefined): boolean {
    const v = dflt === undefined ? this.required(key, 'b') : this.variant(key, 'b');
    if (v === undefined) return dflt!;
    if (typeof v !== 'boolean') throw new OstreeBadReplyError(`${this.where}.${key}`, 'expected a boolean');
    return v;
  }

  int32(key: string): number {
    const v = this.required(key, 'i');
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new OstreeBadReplyError(`${this.where}.${key}`, 'expected a non-negative integer');
    }
    return v;
  }

  /** `t` seconds since the epoch (BigInt in dbus-next) -> ms; absent means 0 (rpm-ostree omits zero). */
  timestampMs(key: string): number {
    const v = this.variant(key, 't');
    if (v === undefined) return 0;
    if (typeof v !== 'bigint') throw new OstreeBadReplyError(`${this.where}.${key}`, 'expected a 64-bit unsigned integer');
    if (v < 0n || v > BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 1000))) {
      throw new OstreeBadReplyError(`${this.where}.${key}`, `timestamp ${v.toString()} out of range`);
    }
    return Number(v) * 1000;
  }
}

/** Options of the deployment parsers. */
export interface ParseOptions {
  /** First component of the origin refs streams are read from (default `altcos`). */
  readonly streamPrefix?: string;
}

/**
 * Reads `container-image-reference` + `container-image-reference-digest` (rpm-ostree's keys for an
 * image origin; alt-ostreed's bootc driver sends the same). Both or neither: one without the other,
 * or a reference naming no registry image, is a bad reply, never a silent checksum fallback.
 */
function parseImage(r: DictReader, where: string): DeploymentImage | null {
  const reference = r.str('container-image-reference');
  const digest = r.str('container-image-reference-digest');
  if (reference === null && digest === null) return null;
  if (reference === null || reference === '') {
    throw new OstreeBadReplyError(`${where}.container-image-reference`, 'missing beside container-image-reference-digest');
  }
  if (digest === null || !DIGEST.test(digest)) {
    throw new OstreeBadReplyError(`${where}.container-image-reference-digest`, `expected sha256:<64 lowercase hex>, got ${digest === null ? 'nothing' : `'${digest}'`}`);
  }
  // A locally built image is read (the agent leaves such a host alone); other non-registry
  // references are a backend bug.
  if (isLocalImageReference(reference)) return { reference, digest, pullspec: `${reference}@${digest}`, local: true };
  const name = imageName(reference);
  if (name === null) throw new OstreeBadReplyError(`${where}.container-image-reference`, `'${reference}' names no registry image`);
  return { reference, digest, pullspec: `${name}@${digest}` };
}

/** Parses one deployment dict; `where` names it in errors (e.g. `Deployments[0]`). */
export function parseDeployment(raw: unknown, where: string, opts: ParseOptions = {}): Deployment {
  if (!isPlainRecord(raw)) throw new OstreeBadReplyError(where, 'expected a dict (a{sv})');
  const r = new DictReader(raw, where);
  const origin = r.str('origin');
  const image = parseImage(r, where);
  return {
    id: r.requiredStr('id'),
    osname: r.requiredStr('osname'),
    checksum: r.requiredStr('checksum', HEX64, '64 lowercase hex digits'),
    version: r.str('version'),
    origin,
    stream: streamFromRef(origin, opts.streamPrefix),
    timestampMs: r.timestampMs('timestamp'),
    serial: r.int32('serial'),
    booted: r.bool('booted', undefined),
    staged: r.bool('staged', false),
    finalizationLocked: r.bool('finalization-locked', false),
    pinned: r.bool('pinned', false),
    // Only image deployments carry the key, so ostree-only deployments read exactly as before.
    ...(image === null ? {} : { image }),
  };
}

/**
 * Parses `Sysroot.Deployments` (boot order, staged first) into a DeploymentSet. Staged and rollback
 * follow ostree_sysroot_query_deployments_for() for the booted deployment's osname: rollback = the
 * first deployment of that OS after the booted one; at most one deployment may be booted or staged.
 */
export function parseDeploymentSet(raw: unknown, opts: ParseOptions = {}): DeploymentSet {
  if (!Array.isArray(raw)) throw new OstreeBadReplyError('Deployments', 'expected an array (aa{sv})');
  const deployments = raw.map((d, i) => parseDeployment(d, `Deployments[${i}]`, opts));
  const booted = deployments.filter((d) => d.booted);
  if (booted.length > 1) throw new OstreeBadReplyError('Deployments', `${booted.length} deployments claim to be booted`);
  const staged = deployments.filter((d) => d.staged);
  if (staged.length > 1) throw new OstreeBadReplyError('Deployments', `${staged.length} deployments claim to be staged`);
  const b = booted[0] ?? null;
  let rollback: Deployment | null = null;
  if (b !== null) {
    const mine = deployments.filter((d) => d.osname === b.osname);
    rollback = mine.slice(mine.indexOf(b) + 1).find((d) => !d.staged) ?? null;
  }
  return { deployments, booted: b, staged: staged[0] ?? null, rollback };
}
