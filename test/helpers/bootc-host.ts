// Test fixture: a bootc host. A real ostree sysroot, fake-booted as test/helpers/sysroot.ts does,
// whose first deployment is an OCI image pulled from a real registry (test/helpers/oci-registry.ts)
// by the bootc stand-in (test/stand-ins/bootc) under a real containers policy.json that requires GPG
// simple signatures (what Debian 12's skopeo 1.9 can make; it has no sigstore key generation), with
// the signatures in a lookaside directory (registries.d). Images are real: a deployable OS tree
// (writeTree) as one gzip layer, pushed and signed with `skopeo copy --sign-by`.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestRegistry } from './oci-registry.js';
import { writeTree } from './ostree-repo.js';
import type { SigningKey } from './signing.js';
import { FAKEBOOT_REBOOT, FAKEBOOT_WRAPPER, MUTABLE_ENV, type TestSysroot } from './sysroot.js';

const run = promisify(execFile);

/** The bootc stand-in (an executable node script; not compiled, so found from dist/test/helpers too, for the demo). */
export const BOOTC_STANDIN = [
  fileURLToPath(new URL('../stand-ins/bootc', import.meta.url)), // from test/helpers (vitest)
  fileURLToPath(new URL('../../../test/stand-ins/bootc', import.meta.url)), // from dist/test/helpers (demo)
].find((p) => existsSync(p))!;

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** One OS image: its blobs by digest and its manifest. */
export interface OsImage {
  readonly blobs: ReadonlyMap<string, Buffer>;
  readonly manifest: Buffer;
  /** Digest of `manifest`. */
  readonly digest: string;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Writes `image` as an OCI layout under `dir` with ref name `tag`. */
async function writeLayout(dir: string, tag: string, image: OsImage): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [d, b] of [...image.blobs, [image.digest, image.manifest] as const]) await writeFile(join(dir, 'blobs', 'sha256', d.slice(7)), b);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const entry = { mediaType: OCI_MANIFEST, digest: image.digest, size: image.manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
}

/** Builds a bootable image: one gzip layer holding a deployable tree for `version`. */
export async function buildOsImage(work: string, version: string, created: string): Promise<OsImage> {
  const dir = await mkdtemp(join(work, 'image-'));
  try {
    const tree = join(dir, 'tree');
    await writeTree(tree, version, 'alt-atomic');
    await run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', tree, '-cf', join(dir, 'layer.tar'), '.']);
    const tar = await readFile(join(dir, 'layer.tar'));
    await run('gzip', ['-n', join(dir, 'layer.tar')]);
    const gz = await readFile(join(dir, 'layer.tar.gz'));
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created,
        config: { Labels: { 'org.opencontainers.image.version': version, 'com.coreos.stream': 'stable' } },
        rootfs: { type: 'layers', diff_ids: [sha(tar)] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(gz), size: gz.length }],
      }),
    );
    return {
      blobs: new Map([
        [sha(config), config],
        [sha(gz), gz],
      ]),
      manifest,
      digest: sha(manifest),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Where signatures live and how skopeo finds them. */
export interface SignatureStore {
  /** registries.d directory (lookaside for reading and writing). */
  readonly registriesD: string;
}

/** Creates a lookaside signature store under `dir`. */
export async function createSignatureStore(dir: string): Promise<SignatureStore> {
  const registriesD = join(dir, 'registries.d');
  await mkdir(registriesD, { recursive: true });
  const sigs = join(dir, 'sigstore');
  await writeFile(join(registriesD, 'default.yaml'), `default-docker:\n  sigstore: file://${sigs}\n  sigstore-staging: file://${sigs}\n`);
  return { registriesD };
}

/** Pushes `image` as `repo:tag`, signed by `key` (GPG simple signing) or unsigned. */
export async function pushImage(reg: TestRegistry, store: SignatureStore, repo: string, tag: string, image: OsImage, key: SigningKey | null): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-push-'));
  try {
    await writeLayout(join(dir, 'oci'), tag, image);
    const sign = key ? ['--sign-by', key.keyId] : [];
    await run(
      'skopeo',
      ['--insecure-policy', '--registries.d', store.registriesD, 'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', ...sign, `oci:${join(dir, 'oci')}:${tag}`, `docker://${reg.host}/${repo}:${tag}`],
      { env: { ...process.env, ...(key ? { GNUPGHOME: key.homedir } : {}), REGISTRY_AUTH_FILE: join(dir, 'auth.json') } },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A fake-booted bootc host. */
export interface BootcTestHost extends TestSysroot {
  /** The `bootc` alt-ostreed runs: a wrapper running the stand-in with this host's configuration. */
  readonly bootc: string;
  /** The policy.json bootc pulls under. */
  readonly policy: string;
  /** Runs the stand-in (as alt-ostreed would) and returns its standard output. */
  bootcRun(args: readonly string[]): Promise<string>;
  /**
   * Makes the booted image one built on the host, as APM's rebuild mode leaves it (`bootc switch
   * --transport containers-storage <image>`): bootc reports it with that transport from now on.
   */
  markBootedLocal(image: string): Promise<void>;
}

/** Options of {@link createBootcHost}. */
export interface BootcHostOptions {
  readonly registry: TestRegistry;
  readonly store: SignatureStore;
  /** `host/repo:tag` to install from. */
  readonly image: string;
  /** Keys policy.json trusts for the registry (signedBy, GPG). */
  readonly trusted: SigningKey;
  /** bootc version the stand-in impersonates. @default "1.12.0" */
  readonly version?: string;
  /** The stand-in has `switch --download-only` / `--from-downloaded` (bootc-dev/bootc#2342). @default false */
  readonly switchDownloadOnly?: boolean;
}

/** Installs `image` into a new sysroot with the stand-in and fake-boots it. */
export async function createBootcHost(opts: BootcHostOptions): Promise<BootcTestHost> {
  const osname = 'alt-atomic';
  const base = await mkdtemp(join(tmpdir(), 'alt-bootc-'));
  const path = join(base, 'sysroot');
  const stateDir = join(base, 'state');
  const runDir = join(stateDir, 'run');
  await mkdir(path, { recursive: true });
  await mkdir(runDir, { recursive: true });
  await chmod(base, 0o755);
  await run('ostree', ['admin', 'init-fs', path]);
  await run('ostree', ['admin', 'os-init', osname, `--sysroot=${path}`]);
  const policy = join(base, 'policy.json');
  await writeFile(
    policy,
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: { docker: { [opts.registry.host]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: opts.trusted.publicKeyFile }] }, oci: { '': [{ type: 'insecureAcceptAnything' }] } },
    }),
  );
  const registriesConf = join(base, 'registries.conf');
  await writeFile(registriesConf, `[[registry]]\nlocation = "${opts.registry.host}"\ninsecure = true\n`);
  const config = join(base, 'bootc-standin.json');
  await writeFile(
    config,
    JSON.stringify({
      sysroot: path,
      stateroot: osname,
      ostreePrefix: [FAKEBOOT_WRAPPER, stateDir],
      policy,
      registriesD: opts.store.registriesD,
      registriesConf,
      state: join(base, 'bootc-standin-state.json'),
      work: join(base, 'work'),
      version: opts.version ?? '1.12.0',
      switchDownloadOnly: opts.switchDownloadOnly ?? false,
    }),
  );
  const bootc = join(base, 'bin/bootc');
  await mkdir(join(base, 'bin'));
  await writeFile(bootc, `#!/bin/sh\n# bootc for this test host: the stand-in with its configuration.\nBOOTC_STANDIN_CONFIG='${config}' exec '${process.execPath}' '${BOOTC_STANDIN}' "$@"\n`);
  await chmod(bootc, 0o755);
  const bootcRun = async (args: readonly string[]): Promise<string> => (await run(bootc, [...args], { env: { ...process.env, ...MUTABLE_ENV }, maxBuffer: 64 << 20 })).stdout;
  const checksum = (await bootcRun(['standin-install', opts.image])).trim();
  await writeFile(join(stateDir, 'sysroot-path'), `${path}\n`);
  await writeFile(join(stateDir, 'booted'), `ostree/deploy/${osname}/deploy/${checksum}.0\n`);
  await writeFile(join(runDir, 'ostree-booted'), '');
  const sh = async (cmd: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> => run(cmd, [...args], { env: { ...process.env, ...MUTABLE_ENV } });
  return {
    path,
    runDir,
    stateDir,
    osname,
    remote: '',
    ref: '',
    commandPrefix: [FAKEBOOT_WRAPPER, stateDir],
    rebootCommand: [FAKEBOOT_REBOOT, stateDir],
    bootc,
    policy,
    bootcRun,
    async markBootedLocal(image) {
      const file = join(base, 'bootc-standin-state.json');
      const st = JSON.parse(await readFile(file, 'utf8')) as { origin: { image: string; transport?: string }; images: Record<string, { image: string; transport?: string }> };
      const booted = st.images[checksum]!;
      Object.assign(booted, { image, transport: 'containers-storage' });
      st.origin = { image, transport: 'containers-storage' };
      await writeFile(file, `${JSON.stringify(st, null, 2)}\n`);
    },
    exec: (cmd) => sh(FAKEBOOT_WRAPPER, [stateDir, ...cmd]),
    async bootedChecksum() {
      const leaf = (await readFile(join(stateDir, 'booted'), 'utf8')).trim().split('/').pop() ?? '';
      return leaf.slice(0, leaf.indexOf('.'));
    },
    async simulateReboot() {
      await sh(FAKEBOOT_REBOOT, [stateDir]);
    },
    async rebootCount() {
      return (await readFile(join(stateDir, 'reboots.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    },
    async destroy() {
      await rm(base, { recursive: true, force: true });
    },
  };
}
