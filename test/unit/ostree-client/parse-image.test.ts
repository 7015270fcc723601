import { describe, expect, it } from 'vitest';
import { deploymentPayload, imageName, stagedMismatch } from '../../../src/ostree/deployment.js';
import { OstreeBadReplyError } from '../../../src/ostree/client/errors.js';
import { parseDeployment } from '../../../src/ostree/client/parse.js';

const v = (signature: string, value: unknown): { signature: string; value: unknown } => ({ signature, value });
const C = 'c'.repeat(64);
const D = `sha256:${'d'.repeat(64)}`;

function dict(extra: Record<string, unknown>): Record<string, unknown> {
  return { id: v('s', `alt-${C}.0`), osname: v('s', 'alt'), checksum: v('s', C), serial: v('i', 0), booted: v('b', true), ...extra };
}

describe('image-based deployments (container-image-reference keys)', () => {
  it('reads the image reference and digest into image.pullspec = <name>@<digest>', () => {
    const d = parseDeployment(
      dict({ 'container-image-reference': v('s', 'ostree-unverified-registry:registry.example/alt/atomic:stable'), 'container-image-reference-digest': v('s', D) }),
      'Deployments[0]',
    );
    expect(d.image).toEqual({ reference: 'ostree-unverified-registry:registry.example/alt/atomic:stable', digest: D, pullspec: `registry.example/alt/atomic@${D}` });
    expect(deploymentPayload(d)).toBe(`registry.example/alt/atomic@${D}`);
  });

  it('leaves a plain ostree deployment without image, its payload the checksum', () => {
    const d = parseDeployment(dict({}), 'Deployments[0]');
    expect(d.image).toBeUndefined();
    expect(deploymentPayload(d)).toBe(C);
  });

  it.each([
    [{ 'container-image-reference': v('s', 'docker://r.example/a:1') }, 'container-image-reference-digest'],
    [{ 'container-image-reference-digest': v('s', D) }, 'container-image-reference'],
    [{ 'container-image-reference': v('s', 'docker://r.example/a:1'), 'container-image-reference-digest': v('s', 'sha256:xyz') }, 'container-image-reference-digest'],
    [{ 'container-image-reference': v('s', 'oci:/srv/img'), 'container-image-reference-digest': v('s', D) }, 'container-image-reference'],
    [{ 'container-image-reference': v('as', []), 'container-image-reference-digest': v('s', D) }, 'container-image-reference'],
  ])('refuses a half or malformed image origin, naming the key (%#)', (extra, key) => {
    try {
      parseDeployment(dict(extra), 'Deployments[2]');
      expect.unreachable();
    } catch (err: unknown) {
      expect(err).toBeInstanceOf(OstreeBadReplyError);
      expect((err as OstreeBadReplyError).field).toBe(`Deployments[2].${key}`);
    }
  });

  it.each([
    ['ostree-unverified-registry:quay.io/fedora/fedora-coreos:stable', 'quay.io/fedora/fedora-coreos'],
    ['ostree-remote-image:fedora:docker://quay.io/fedora/fedora-coreos:stable', 'quay.io/fedora/fedora-coreos'],
    ['ostree-image-signed:docker://quay.io/f/c@sha256:' + 'a'.repeat(64), 'quay.io/f/c'],
    ['docker://localhost:5000/alt/atomic', 'localhost:5000/alt/atomic'],
    ['localhost:5000/alt/atomic:20261201', 'localhost:5000/alt/atomic'],
    ['registry:quay.io/x', 'quay.io/x'],
    ['containers-storage:localhost/mine', null],
    ['oci-archive:/tmp/a.tar', null],
  ])('derives the image name of %s as Zincati does', (ref, name) => {
    expect(imageName(ref)).toBe(name);
  });

  it('confirms a staged image deployment by its pullspec, not its ostree checksum', () => {
    const booted = parseDeployment(dict({ 'container-image-reference': v('s', 'docker://r.example/a:1'), 'container-image-reference-digest': v('s', D) }), 'b');
    const D2 = `sha256:${'e'.repeat(64)}`;
    const staged = parseDeployment(
      dict({ booted: v('b', false), staged: v('b', true), version: v('s', '2'), 'container-image-reference': v('s', 'docker://r.example/a:1'), 'container-image-reference-digest': v('s', D2) }),
      's',
    );
    const set = { deployments: [staged, booted], booted, staged, rollback: null };
    expect(stagedMismatch(set, { payload: `r.example/a@${D2}`, version: '2' }, booted)).toBeNull();
    expect(stagedMismatch(set, { payload: C, version: '2' }, booted)).toBe('checksum');
  });
});
