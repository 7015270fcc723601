// Pure decoding of OCI / Docker v2 registry documents: image indexes, image manifests and image
// configs. Strict on what a release needs (digests, architecture, creation time, version label),
// lenient on everything else; a malformed document is a GRAPHD_REGISTRY error naming the field.
import { GraphServerError } from '../errors.js';

/** Media types the registry client accepts, most specific first. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

const INDEX_TYPES = new Set<string>([MANIFEST_MEDIA_TYPES[0], MANIFEST_MEDIA_TYPES[1]]);
const IMAGE_TYPES = new Set<string>([MANIFEST_MEDIA_TYPES[2], MANIFEST_MEDIA_TYPES[3]]);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A decoded manifest document: a multi-arch index or one image. */
export type ManifestDoc =
  | { readonly kind: 'index'; readonly manifests: readonly { readonly digest: string; readonly architecture: string; readonly os: string }[] }
  | { readonly kind: 'image'; readonly configDigest: string };

/** What a release needs from an image config. */
export interface ImageConfigFacts {
  /** The version label's value, or null when the label is absent or empty. */
  readonly version: string | null;
  /** `created`, ms since the epoch; 0 when absent (orders first). */
  readonly createdMs: number;
  /** OCI architecture (`amd64`, `arm64`...). */
  readonly architecture: string;
  /** OCI OS (`linux`). */
  readonly os: string;
}

function bad(where: string, what: string): never {
  throw new GraphServerError('GRAPHD_REGISTRY', `${where}: ${what}`);
}

function record(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function json(bytes: Uint8Array, where: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err: unknown) {
    bad(where, `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!record(doc)) bad(where, 'expected a JSON object');
  return doc;
}

function digestAt(v: unknown, where: string): string {
  if (typeof v !== 'string' || !DIGEST.test(v)) bad(where, `expected a sha256 digest, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

/**
 * Decodes a manifest body. `headerType` is the response's Content-Type; the body's own `mediaType`
 * wins when present (OCI makes it optional, Docker requires it).
 */
export function parseManifest(bytes: Uint8Array, headerType: string | null, where: string): ManifestDoc {
  const doc = json(bytes, where);
  const type = typeof doc.mediaType === 'string' ? doc.mediaType : (headerType?.split(';')[0]?.trim() ?? '');
  const isIndex = INDEX_TYPES.has(type) || (type === '' && Array.isArray(doc.manifests));
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) bad(`${where}.manifests`, 'expected an array');
    const manifests = doc.manifests.flatMap((m: unknown, i: number) => {
      const at = `${where}.manifests[${i}]`;
      if (!record(m)) bad(at, 'expected an object');
      const p = m.platform;
      // Attestation and other non-image entries carry no platform (or `unknown`): not releases.
      if (!record(p) || typeof p.architecture !== 'string' || p.architecture === 'unknown') return [];
      return [{ digest: digestAt(m.digest, `${at}.digest`), architecture: p.architecture, os: typeof p.os === 'string' ? p.os : 'linux' }];
    });
    return { kind: 'index', manifests };
  }
  if (!IMAGE_TYPES.has(type) && !(type === '' && record(doc.config))) bad(`${where}.mediaType`, `unsupported manifest type ${JSON.stringify(type)}`);
  if (!record(doc.config)) bad(`${where}.config`, 'expected an object');
  return { kind: 'image', configDigest: digestAt(doc.config.digest, `${where}.config.digest`) };
}

/** Decodes an image config blob, reading the version from label `versionLabel`. */
export function parseImageConfig(bytes: Uint8Array, versionLabel: string, where: string): ImageConfigFacts {
  const doc = json(bytes, where);
  if (typeof doc.architecture !== 'string' || doc.architecture === '') bad(`${where}.architecture`, 'expected a non-empty string');
  let createdMs = 0;
  if (doc.created !== undefined) {
    createdMs = typeof doc.created === 'string' ? Date.parse(doc.created) : NaN;
    if (!Number.isFinite(createdMs)) bad(`${where}.created`, `expected an RFC 3339 time, got ${JSON.stringify(doc.created)}`);
  }
  const cfg = record(doc.config) ? doc.config : {};
  const labels = record(cfg.Labels) ? cfg.Labels : {};
  const v = Object.hasOwn(labels, versionLabel) ? labels[versionLabel] : undefined;
  return { version: typeof v === 'string' && v !== '' ? v : null, createdMs, architecture: doc.architecture, os: typeof doc.os === 'string' ? doc.os : 'linux' };
}

// OCI (Go) architecture names -> the GNU names Cincinnati clients send as `basearch`.
const BASEARCH: Readonly<Record<string, string>> = { amd64: 'x86_64', arm64: 'aarch64', '386': 'i586', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loongarch64' };

/** The `basearch` for an OCI architecture (unknown names pass through unchanged). */
export function basearchOf(architecture: string): string {
  return BASEARCH[architecture] ?? architecture;
}
