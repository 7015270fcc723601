// alt-graphd configuration: CLI flags over an optional TOML file with the same keys (snake_case).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { decodeUtf8File } from '../common/utf8.js';
import { GraphServerError } from './errors.js';
import { keyringFiles } from './signatures.js';
import { parseOciStreams, type OciStreamSettings } from './oci/config.js';

/** Validated alt-graphd settings. */
export interface GraphdConfig {
  /** Local ostree repo path or http(s) URL; null when every stream comes from an OCI registry. */
  readonly repo: string | null;
  /** Directory of `updates/<stream>.json` policy files. */
  readonly updates: string;
  /** Listen host (loopback by default). @default "127.0.0.1" */
  readonly host: string;
  /** Listen port (0 = ephemeral). @default 8080 */
  readonly port: number;
  /** Ref prefix. @default "altcos" */
  readonly refPrefix: string;
  /** Seconds between change checks. @default 30 */
  readonly pollIntervalSecs: number;
  /** Cache repo for a URL source. @default "/var/cache/alt-graphd/repo" */
  readonly cacheDir: string;
  /** Treat unlisted commits as completed rollouts. @default false */
  readonly implicitRollout: boolean;
  /** Fixed start time for the clock, unix seconds (tests and demos), or null for real time. @default null */
  readonly nowSecs: number | null;
  /** Directory of `*.gpg` public keyrings: list only commits with a good signature from one. @default null */
  readonly verifyKeyringDir: string | null;
  /** Streams read from OCI registries (`[[streams]]`, or the `--registry` flags). @default [] */
  readonly ociStreams?: readonly OciStreamSettings[];
}

const KEYS = ['repo', 'updates', 'listen', 'ref_prefix', 'poll_interval_secs', 'cache_dir', 'implicit_rollout', 'verify_keyring_dir', 'streams'] as const;

/** Usage text. */
export const GRAPHD_USAGE =
  'usage: alt-graphd --repo PATH_OR_URL --updates DIR [--listen 127.0.0.1:8080] [--config FILE] [--ref-prefix altcos]\n' +
  '                  [--poll-interval-secs 30] [--cache-dir DIR] [--implicit-rollout] [--verify-keyring-dir DIR] [--now UNIX_SECS]\n' +
  '       alt-graphd --registry URL --repository NAME (--tag-pattern REGEX | --tags T1,T2) --stream NAME --updates DIR\n' +
  '                  [--image NAME] [--version-label LABEL] ... (or [[streams]] in --config FILE)';

function fail(msg: string): never {
  throw new GraphServerError('GRAPHD_CONFIG', msg);
}

function parseListen(v: string, where: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(v);
  const port = Number(m?.[2]);
  if (!m || port > 65535) fail(`${where}: expected HOST:PORT, got ${JSON.stringify(v)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

async function readToml(file: string): Promise<Record<string, unknown>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err: unknown) {
    throw new GraphServerError('GRAPHD_CONFIG', `cannot read config '${file}'`, err);
  }
  const text = decodeUtf8File(bytes, file);
  if (!text.ok) fail(text.message);
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text.text) as Record<string, unknown>;
  } catch (err: unknown) {
    throw new GraphServerError('GRAPHD_CONFIG', `${file}: invalid TOML: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  for (const k of Object.keys(doc)) if (!(KEYS as readonly string[]).includes(k)) fail(`${file}: unknown key '${k}' (known: ${KEYS.join(', ')})`);
  return doc;
}

/** Parses flags (and the `--config` file); throws `GRAPHD_CONFIG` naming the flag or file key. */
export async function loadGraphdConfig(argv: string[]): Promise<GraphdConfig> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        repo: { type: 'string' },
        updates: { type: 'string' },
        listen: { type: 'string' },
        config: { type: 'string' },
        'ref-prefix': { type: 'string' },
        'poll-interval-secs': { type: 'string' },
        'cache-dir': { type: 'string' },
        'implicit-rollout': { type: 'boolean' },
        'verify-keyring-dir': { type: 'string' },
        now: { type: 'string' },
        registry: { type: 'string' },
        repository: { type: 'string' },
        'tag-pattern': { type: 'string' },
        tags: { type: 'string' },
        stream: { type: 'string' },
        image: { type: 'string' },
        'version-label': { type: 'string' },
      },
    }));
  } catch (err: unknown) {
    fail(`${err instanceof Error ? err.message : String(err)}\n${GRAPHD_USAGE}`);
  }
  const file = values.config ? await readToml(values.config) : {};
  // Without a config file a missing value can only be given as a flag: name the flag.
  const where = (key: string, flag: string, fromFlag: boolean): string => (fromFlag || values.config === undefined ? `--${flag}` : `${values.config}: ${key}`);
  const str = (key: (typeof KEYS)[number], flag: string, def?: string): string => {
    const v: unknown = (values as Record<string, unknown>)[flag] ?? file[key] ?? def;
    if (typeof v !== 'string' || v === '') fail(`${where(key, flag, (values as Record<string, unknown>)[flag] !== undefined)}: expected a non-empty string${v === undefined ? ' (required)' : ''}`);
    return v;
  };
  const listenFromFlag = values.listen !== undefined;
  const { host, port } = parseListen(str('listen', 'listen', '127.0.0.1:8080'), where('listen', 'listen', listenFromFlag));
  const pollRaw: unknown = values['poll-interval-secs'] !== undefined ? Number(values['poll-interval-secs']) : (file.poll_interval_secs ?? 30);
  if (typeof pollRaw !== 'number' || !Number.isInteger(pollRaw) || pollRaw < 1) fail(`${where('poll_interval_secs', 'poll-interval-secs', values['poll-interval-secs'] !== undefined)}: expected an integer >= 1`);
  const implicit: unknown = values['implicit-rollout'] ?? file.implicit_rollout ?? false;
  if (typeof implicit !== 'boolean') fail(`${values.config}: implicit_rollout: expected a boolean`);
  let nowSecs: number | null = null;
  if (values.now !== undefined) {
    nowSecs = Number(values.now);
    if (!Number.isSafeInteger(nowSecs)) fail(`--now: expected unix seconds, got ${JSON.stringify(values.now)}`);
  }
  let verifyKeyringDir: string | null = null;
  if (values['verify-keyring-dir'] !== undefined || file.verify_keyring_dir !== undefined) {
    const flag = values['verify-keyring-dir'] !== undefined;
    verifyKeyringDir = str('verify_keyring_dir', 'verify-keyring-dir');
    // At start-up, not at the first rebuild: a missing or empty key directory is a config error.
    await keyringFiles(verifyKeyringDir, where('verify_keyring_dir', 'verify-keyring-dir', flag));
  }
  const ociStreams = await parseOciStreams(values, file.streams, values.config ?? null);
  const hasRepo = values.repo !== undefined || file.repo !== undefined;
  return {
    verifyKeyringDir,
    ociStreams,
    // An ostree repo is required unless every stream comes from a registry.
    repo: hasRepo || ociStreams.length === 0 ? str('repo', 'repo') : null,
    updates: str('updates', 'updates'),
    host,
    port,
    refPrefix: str('ref_prefix', 'ref-prefix', 'altcos'),
    pollIntervalSecs: pollRaw,
    cacheDir: str('cache_dir', 'cache-dir', '/var/cache/alt-graphd/repo'),
    implicitRollout: implicit,
    nowSecs,
  };
}
