import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGraphdConfig } from '../../../src/graph-server/config.js';
import { GraphServerError } from '../../../src/graph-server/errors.js';
import { basearchOf, parseImageConfig, parseManifest } from '../../../src/graph-server/oci/manifest.js';
import { parseBearerChallenge } from '../../../src/graph-server/oci/registry.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const j = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

describe('OCI documents', () => {
  it('reads an image index into its linux platform manifests, skipping attestation entries', () => {
    const doc = parseManifest(
      j({
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { digest: D('a'), platform: { architecture: 'amd64', os: 'linux' } },
          { digest: D('b'), platform: { architecture: 'arm64', os: 'linux' } },
          { digest: D('c'), platform: { architecture: 'unknown', os: 'unknown' } },
        ],
      }),
      null,
      'r:t',
    );
    expect(doc).toEqual({ kind: 'index', manifests: [{ digest: D('a'), architecture: 'amd64', os: 'linux' }, { digest: D('b'), architecture: 'arm64', os: 'linux' }] });
  });

  it('reads an image manifest (Docker v2 too, type from the header) into its config digest', () => {
    expect(parseManifest(j({ schemaVersion: 2, config: { digest: D('e') } }), 'application/vnd.docker.distribution.manifest.v2+json', 'r:t')).toEqual({ kind: 'image', configDigest: D('e') });
  });

  it.each([
    ['not JSON', Buffer.from('{'), /r:t: not JSON/],
    ['a config without digest', j({ mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {} }), /r:t\.config\.digest: expected a sha256 digest/],
    ['a schema 1 manifest', j({ mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' }), /r:t\.mediaType: unsupported/],
    ['an index entry with a bad digest', j({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ digest: 'md5:x', platform: { architecture: 'amd64' } }] }), /manifests\[0\]\.digest/],
  ])('refuses %s naming the field', (_what, body, re) => {
    expect(() => parseManifest(body, null, 'r:t')).toThrow(re);
    expect(() => parseManifest(body, null, 'r:t')).toThrow(GraphServerError);
  });

  it('reads version label, creation time and architecture from an image config', () => {
    const cfg = j({ architecture: 'arm64', os: 'linux', created: '2026-11-02T00:00:00Z', config: { Labels: { 'org.opencontainers.image.version': '1.1', v: '7' } } });
    expect(parseImageConfig(cfg, 'org.opencontainers.image.version', 'c')).toEqual({ version: '1.1', createdMs: Date.parse('2026-11-02T00:00:00Z'), architecture: 'arm64', os: 'linux' });
    expect(parseImageConfig(cfg, 'v', 'c').version).toBe('7');
    expect(parseImageConfig(cfg, 'absent', 'c').version).toBeNull();
    expect(() => parseImageConfig(j({ architecture: 'amd64', created: 'yesterday' }), 'v', 'c')).toThrow(/c\.created: expected an RFC 3339 time/);
    expect(() => parseImageConfig(j({ created: '2026-11-02T00:00:00Z' }), 'v', 'c')).toThrow(/c\.architecture/);
  });

  it('maps OCI architectures to Cincinnati basearch names', () => {
    expect(['amd64', 'arm64', '386', 'riscv64', 'mips64'].map(basearchOf)).toEqual(['x86_64', 'aarch64', 'i586', 'riscv64', 'mips64']);
  });

  it('parses a Bearer challenge, commas inside quotes included', () => {
    expect(parseBearerChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      realm: 'https://auth.example/token',
      service: 'registry.example',
      scope: 'repository:a/b:pull,push',
    });
    expect(parseBearerChallenge('Basic realm="x"')).toBeNull();
    expect(parseBearerChallenge('Bearer service="x"')).toBeNull();
  });
});

describe('alt-graphd oci stream settings', () => {
  async function withToml(text: string, fn: (file: string, dir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'graphd-oci-cfg-'));
    try {
      await writeFile(join(dir, 'g.toml'), text);
      await fn(join(dir, 'g.toml'), dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('reads [[streams]] without an ostree repo, with defaults for image and version label', async () => {
    await withToml('updates = "/u"\n[[streams]]\nname = "stable"\nregistry = "https://registry.example:5000"\nrepository = "alt/atomic"\ntag_pattern = "[0-9]+"\n', async (file) => {
      const c = await loadGraphdConfig(['--config', file]);
      expect(c.repo).toBeNull();
      expect(c.ociStreams).toEqual([
        { stream: 'stable', registry: 'https://registry.example:5000', repository: 'alt/atomic', tagPattern: '[0-9]+', tags: null, image: 'registry.example:5000/alt/atomic', versionLabel: 'org.opencontainers.image.version', credentials: null },
      ]);
    });
  });

  it('takes one stream from flags, a tag list and credentials from a password file', async () => {
    await withToml(
      'updates = "/u"\n[[streams]]\nname = "s"\nregistry = "http://r"\nrepository = "a"\ntags = ["1", "2"]\nimage = "r.example/a"\nusername = "bot"\npassword_file = "PW"\n',
      async (file, dir) => {
        await writeFile(join(dir, 'pw'), 'secret\n');
        await writeFile(file, (await import('node:fs/promises').then((f) => f.readFile(file, 'utf8'))).replace('PW', join(dir, 'pw')));
        const c = await loadGraphdConfig(['--config', file, '--registry', 'http://127.0.0.1:5000', '--repository', 'b/c', '--tag-pattern', 'v.*', '--stream', 'next']);
        expect(c.ociStreams?.map((s) => [s.stream, s.tags, s.image, s.credentials])).toEqual([
          ['s', ['1', '2'], 'r.example/a', { username: 'bot', password: 'secret' }],
          ['next', null, '127.0.0.1:5000/b/c', null],
        ]);
      },
    );
  });

  it.each([
    ['[[streams]]\nname = "s"\nregistry = "ftp://r"\nrepository = "a"\ntag_pattern = "x"\n', /streams\[0\]\.registry: expected http\(s\)/],
    ['[[streams]]\nname = "s"\nregistry = "http://r"\nrepository = "A B"\ntag_pattern = "x"\n', /streams\[0\]\.repository: not a repository name/],
    ['[[streams]]\nname = "s"\nregistry = "http://r"\nrepository = "a"\n', /streams\[0\]\.tag_pattern: give exactly one of tag_pattern and tags/],
    ['[[streams]]\nname = "s"\nregistry = "http://r"\nrepository = "a"\ntag_pattern = "("\n', /streams\[0\]\.tag_pattern: invalid regular expression/],
    ['[[streams]]\nname = "s"\nregistry = "http://r"\nrepository = "a"\ntag_pattern = "x"\ntagz = 1\n', /streams\[0\]\.tagz: unknown key/],
    ['[[streams]]\nname = "s"\nregistry = "http://r"\nrepository = "a"\ntags = ["1"]\n[[streams]]\nname = "s"\nregistry = "http://r"\nrepository = "b"\ntags = ["1"]\n', /stream 's' is configured twice/],
  ])('refuses a bad stream naming the key (%#)', async (toml, re) => {
    await withToml(`updates = "/u"\n${toml}`, async (file) => {
      await expect(loadGraphdConfig(['--config', file])).rejects.toThrow(re);
    });
  });

  it('still requires --repo when no registry stream is configured', async () => {
    await expect(loadGraphdConfig(['--updates', '/u'])).rejects.toThrow(/--repo: expected a non-empty string \(required\)/);
  });
});
