// The `oci` stream settings of alt-graphd: `[[streams]]` tables in the TOML file, or one stream from
// the `--registry` flags. Every error names the flag or `streams[i].key`.
import { readFile } from 'node:fs/promises';
import { GraphServerError } from '../errors.js';
import type { OciStreamConfig } from './source.js';

/** One registry stream with the credentials its registry needs (null: anonymous). */
export interface OciStreamSettings extends OciStreamConfig {
  readonly credentials: { readonly username: string; readonly password: string } | null;
}

/** Default image config label holding the release version. */
export const DEFAULT_VERSION_LABEL = 'org.opencontainers.image.version';

const STREAM_KEYS = ['name', 'registry', 'repository', 'tag_pattern', 'tags', 'image', 'version_label', 'username', 'password_file'] as const;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

function fail(msg: string): never {
  throw new GraphServerError('GRAPHD_CONFIG', msg);
}

type Raw = Record<string, unknown>;

async function one(raw: Raw, at: (key: string) => string): Promise<OciStreamSettings> {
  const str = (key: string, required: boolean): string | null => {
    const v = raw[key];
    if (v === undefined && !required) return null;
    if (typeof v !== 'string' || v === '') fail(`${at(key)}: expected a non-empty string${v === undefined ? ' (required)' : ''}`);
    return v;
  };
  const stream = str('name', true)!;
  if (!/^[A-Za-z0-9._-]+$/.test(stream)) fail(`${at('name')}: expected a stream name ([A-Za-z0-9._-]), got ${JSON.stringify(stream)}`);
  const registry = str('registry', true)!;
  let url: URL;
  try {
    url = new URL(registry);
  } catch {
    fail(`${at('registry')}: expected an http(s) URL, got ${JSON.stringify(registry)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || (url.pathname !== '/' && url.pathname !== '')) fail(`${at('registry')}: expected http(s)://host[:port], got ${JSON.stringify(registry)}`);
  const repository = str('repository', true)!;
  if (!REPOSITORY.test(repository)) fail(`${at('repository')}: not a repository name: ${JSON.stringify(repository)}`);
  const tagPattern = str('tag_pattern', false);
  let tags: string[] | null = null;
  if (raw.tags !== undefined) {
    const t = raw.tags;
    if (!Array.isArray(t) || t.length === 0 || t.some((x) => typeof x !== 'string' || !/^[\w][\w.-]{0,127}$/.test(x))) fail(`${at('tags')}: expected a non-empty list of tags`);
    tags = t as string[];
  }
  if ((tagPattern === null) === (tags === null)) fail(`${at('tag_pattern')}: give exactly one of tag_pattern and tags`);
  if (tagPattern !== null) {
    try {
      new RegExp(tagPattern);
    } catch (err: unknown) {
      fail(`${at('tag_pattern')}: invalid regular expression: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const username = str('username', false);
  const passwordFile = str('password_file', false);
  if ((username === null) !== (passwordFile === null)) fail(`${at('username')}: username and password_file go together`);
  let credentials: OciStreamSettings['credentials'] = null;
  if (username !== null) {
    try {
      credentials = { username, password: (await readFile(passwordFile!, 'utf8')).trim() };
    } catch (err: unknown) {
      throw new GraphServerError('GRAPHD_CONFIG', `${at('password_file')}: cannot read '${passwordFile!}'`, err);
    }
  }
  return {
    stream,
    registry: url.origin,
    repository,
    tagPattern,
    tags,
    image: str('image', false) ?? `${url.host}/${repository}`,
    versionLabel: str('version_label', false) ?? DEFAULT_VERSION_LABEL,
    credentials,
  };
}

/**
 * Reads the registry streams: the `--registry`/`--repository`/`--tag-pattern`/`--tags`/`--stream`/
 * `--image`/`--version-label` flags describe one stream; the file's `[[streams]]` any number. A
 * stream name may appear once.
 */
export async function parseOciStreams(flags: Record<string, unknown>, fileStreams: unknown, file: string | null): Promise<OciStreamSettings[]> {
  const out: OciStreamSettings[] = [];
  if (fileStreams !== undefined) {
    if (!Array.isArray(fileStreams)) fail(`${file ?? 'config'}: streams: expected an array of tables ([[streams]])`);
    for (const [i, raw] of fileStreams.entries()) {
      const at = (key: string): string => `${file ?? 'config'}: streams[${i}].${key}`;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${file ?? 'config'}: streams[${i}]: expected a table`);
      for (const k of Object.keys(raw)) if (!(STREAM_KEYS as readonly string[]).includes(k)) fail(`${at(k)}: unknown key (known: ${STREAM_KEYS.join(', ')})`);
      out.push(await one(raw as Raw, at));
    }
  }
  const flagNames = ['registry', 'repository', 'tag-pattern', 'tags', 'stream', 'image', 'version-label'];
  if (flagNames.some((f) => flags[f] !== undefined)) {
    const tags = flags.tags;
    const raw: Raw = {
      name: flags.stream,
      registry: flags.registry,
      repository: flags.repository,
      tag_pattern: flags['tag-pattern'],
      tags: typeof tags === 'string' ? tags.split(',').filter((t) => t !== '') : undefined,
      image: flags.image,
      version_label: flags['version-label'],
    };
    const flag: Record<string, string> = { name: 'stream', tag_pattern: 'tag-pattern', version_label: 'version-label' };
    out.push(await one(raw, (key) => `--${flag[key] ?? key}`));
  }
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.stream)) fail(`stream '${s.stream}' is configured twice`);
    seen.add(s.stream);
  }
  return out;
}
