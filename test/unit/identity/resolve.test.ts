import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../../src/config/load.js';
import { resolveIdentity } from '../../../src/identity/resolve.js';
import { identityToJson } from '../../../src/identity/identity.js';
import { IdentityError } from '../../../src/identity/errors.js';
import { ETC, tempRoot, type Tree } from '../config/fs-tree.js';

const MACHINE = '2e074e9b299c41a59923c51ae16f279b\n';
const ALT = 'ID=altlinux\nALT_BRANCH_ID="p11"\n';
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function resolveIn(tree: Tree, opts: { bootedStream?: string | null; arch?: string } = {}) {
  const { root, cleanup } = await tempRoot(tree);
  cleanups.push(cleanup);
  const loaded = await loadSettings({ root });
  const id = await resolveIdentity({ root, settings: loaded.settings, origins: loaded.origins, ...opts });
  return { root, json: identityToJson(id) };
}

async function codeIn(tree: Tree, opts: { bootedStream?: string | null } = {}): Promise<string> {
  const err = await resolveIn(tree, opts).catch((e: unknown) => e);
  return err instanceof IdentityError ? err.code : `not an IdentityError: ${String(err)}`;
}

describe('identity/resolve resolveIdentity', () => {
  it('derives every field from the host files with their sources', async () => {
    const { root, json } = await resolveIn(
      { 'etc/machine-id': MACHINE, 'etc/os-release': ALT, 'proc/cmdline': 'quiet ignition.platform.id=qemu\n' },
      { arch: 'arm64' },
    );
    expect(json).toEqual({
      node_uuid: { value: '074c268827d74fb59ed758e8940cd667', source: 'machine-id', detail: `${root}/etc/machine-id` },
      group: { value: 'default', source: 'default', detail: null },
      basearch: { value: 'aarch64', source: 'runtime', detail: 'process.arch=arm64' },
      platform: { value: 'qemu', source: 'cmdline', detail: `${root}/proc/cmdline` },
      stream: { value: 'p11', source: 'os-release', detail: `${root}/etc/os-release ALT_BRANCH_ID` },
      rollout_wariness: { value: null, source: 'default', detail: null },
    });
  });

  it('prefers config overrides over every other source', async () => {
    const frag = `${ETC}/90-id.toml`;
    const { root, json } = await resolveIn(
      {
        'etc/machine-id': MACHINE,
        'etc/os-release': ALT,
        [frag]: '[identity]\ngroup = "default"\nnode_uuid = "27E3AC02AF3946AF995C9940E18B0CCE"\nstream = "sisyphus"\nrollout_wariness = 0.25\n',
      },
      { bootedStream: 'p10' },
    );
    expect(json.node_uuid).toEqual({ value: '27e3ac02af3946af995c9940e18b0cce', source: 'config', detail: `${root}/${frag}` });
    // Explicitly configured, even though equal to the default value.
    expect(json.group.source).toBe('config');
    expect(json.stream).toEqual({ value: 'sisyphus', source: 'config', detail: `${root}/${frag}` });
    expect(json.rollout_wariness).toEqual({ value: 0.25, source: 'config', detail: `${root}/${frag}` });
  });

  it('prefers the booted deployment stream over os-release', async () => {
    const { json } = await resolveIn({ 'etc/machine-id': MACHINE, 'etc/os-release': ALT }, { bootedStream: 'sisyphus' });
    expect(json.stream).toEqual({ value: 'sisyphus', source: 'deployment', detail: 'booted deployment origin' });
  });

  it('falls back to /usr/lib/os-release when /etc/os-release is missing, and prefers /etc', async () => {
    const usr = await resolveIn({ 'etc/machine-id': MACHINE, 'usr/lib/os-release': 'ID=altlinux\nALT_BRANCH_ID=p10\n' });
    expect(usr.json.stream.value).toBe('p10');
    const both = await resolveIn({ 'etc/machine-id': MACHINE, 'etc/os-release': ALT, 'usr/lib/os-release': 'ID=altlinux\nALT_BRANCH_ID=p10\n' });
    expect(both.json.stream.value).toBe('p11');
  });

  it('has no platform when /proc/cmdline is absent or lacks the flag', async () => {
    const { json } = await resolveIn({ 'etc/machine-id': MACHINE, 'etc/os-release': ALT, 'proc/cmdline': 'quiet' });
    expect(json.platform).toEqual({ value: null, source: 'default', detail: null });
  });

  it.each<[string, Tree, string]>([
    ['missing machine-id', { 'etc/os-release': ALT }, 'IDENTITY_MACHINE_ID'],
    ['malformed machine-id', { 'etc/machine-id': 'uninitialized\n', 'etc/os-release': ALT }, 'IDENTITY_MACHINE_ID'],
    ['another distribution', { 'etc/machine-id': MACHINE, 'etc/os-release': 'ID=fedora\n' }, 'IDENTITY_NOT_ALT'],
    ['no os-release at all', { 'etc/machine-id': MACHINE }, 'IDENTITY_OS_RELEASE'],
    ['ALT without ALT_BRANCH_ID', { 'etc/machine-id': MACHINE, 'etc/os-release': 'ID=altlinux\n' }, 'IDENTITY_NO_STREAM'],
  ])('fails with a typed error: %s', async (_name, tree, code) => {
    expect(await codeIn(tree)).toBe(code);
  });

  it('rejects an unsafe booted stream', async () => {
    expect(await codeIn({ 'etc/machine-id': MACHINE, 'etc/os-release': ALT }, { bootedStream: 'a/b' })).toBe('IDENTITY_INVALID');
  });

  it('runs on another distribution when identity.stream and node_uuid are set', async () => {
    const { json } = await resolveIn({
      'etc/os-release': 'ID=debian\n',
      [`${ETC}/90-id.toml`]: '[identity]\nstream = "sisyphus"\nnode_uuid = "27e3ac02af3946af995c9940e18b0cce"\n',
    });
    expect(json.stream.value).toBe('sisyphus');
  });

  it('treats empty identity.group and identity.node_uuid as unset, as Zincati does', async () => {
    const { root, json } = await resolveIn({
      'etc/machine-id': MACHINE,
      'etc/os-release': ALT,
      [`${ETC}/90-id.toml`]: '[identity]\ngroup = ""\nnode_uuid = ""\n',
    });
    expect(json.group).toEqual({ value: 'default', source: 'default', detail: null });
    expect(json.node_uuid).toEqual({ value: '074c268827d74fb59ed758e8940cd667', source: 'machine-id', detail: `${root}/etc/machine-id` });
  });
});
