// The bootc driver's strict reading of `bootc status --format=json`: bootc's own example documents
// (test/fixtures/bootc, copied from bootc's repository), bootc's published schema, and what the
// driver reports over D-Bus for them (rpm-ostree's container keys).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestedDigest } from '../../../src/ostree/backend/bootc/driver.js';
import { BootcStatusError } from '../../../src/ostree/backend/bootc/errors.js';
import { bootcState, imageName, imageOfReference, imageReference } from '../../../src/ostree/backend/bootc/state.js';
import { parseBootcHost, parseBootcStatusText } from '../../../src/ostree/backend/bootc/status.js';
import { TransactionFailure } from '../../../src/ostree/backend/errors.js';
import { deploymentDict } from '../../../src/ostree/backend/state.js';
import { validateJsonSchema } from '../../helpers/json-schema.js';

const fixtures = join(import.meta.dirname, '../../fixtures/bootc');
const load = (name: string): unknown => JSON.parse(readFileSync(join(fixtures, name), 'utf8'));
const schema = load('host-v1.schema.json') as Record<string, unknown>;
const D1 = 'sha256:16dc2b6256b4ff0d2ec18d2dbfb06d117904010c8cf9732cdb022818cf7a7566';
const D0 = 'sha256:736b359467c9437c1ac915acaae952aad854e07eb4a16a94999a48af08c83c34';

describe("bootc's example status documents", () => {
  it('reads a staged, download-only (locked) image above the booted one', () => {
    const host = parseBootcStatusText(readFileSync(join(fixtures, 'spec-staged-locked.json'), 'utf8'));
    expect(host.staged).toMatchObject({ locked: true, stateroot: 'default', checksum: '3c6dad657109522e0b2e49bf44b5420f16f0b438b5b9357e5132211cfbad135d' });
    expect(host.staged?.image).toMatchObject({ digest: D1, version: 'nightly', architecture: 'arm64', ref: { image: 'quay.io/example/someimage:latest', transport: 'registry', signature: { kind: 'insecure' } } });
    expect(host.booted?.image?.digest).toBe(D0);
    expect(host.rollback).toBeNull();
  });

  it('reports them with the image reference and digest in the keys rpm-ostree uses', () => {
    const state = bootcState(parseBootcHost(load('spec-staged-locked.json')), 'fallback');
    const [staged, booted] = state.deployments.map(deploymentDict);
    expect(staged).toMatchObject({
      staged: { type: 'b', value: true },
      'finalization-locked': { type: 'b', value: true },
      'container-image-reference': { type: 's', value: 'ostree-unverified-registry:quay.io/example/someimage:latest' },
      'container-image-reference-digest': { type: 's', value: D1 },
      version: { type: 's', value: 'nightly' },
      timestamp: { type: 't', value: BigInt(Date.parse('2023-10-14T19:22:15Z') / 1000) },
      id: { type: 's', value: 'default-3c6dad657109522e0b2e49bf44b5420f16f0b438b5b9357e5132211cfbad135d.0' },
    });
    expect(staged).not.toHaveProperty('origin');
    expect(booted).toMatchObject({ booted: { type: 'b', value: true }, 'container-image-reference-digest': { type: 's', value: D0 } });
    expect(booted).not.toHaveProperty('finalization-locked');
    expect(state.booted?.index).toBe(1);
  });

  it('names entries of older bootc without a stateroot after the configured one, unlocked', () => {
    const state = bootcState(parseBootcHost(load('spec-staged-booted.json')), 'alt-atomic');
    expect(state.deployments.map((d) => [d.osname, d.staged, d.finalizationLocked])).toEqual([
      ['alt-atomic', true, false],
      ['alt-atomic', false, false],
    ]);
  });

  it('reads an image booted from a local OCI directory, with a null timestamp', () => {
    const host = parseBootcHost(load('spec-via-local-oci.json'));
    expect(host.booted?.image).toMatchObject({ timestampSecs: null, ref: { transport: 'oci', signature: { kind: 'containerPolicy' } } });
    expect(imageReference(host.booted!.image!.ref)).toBe('ostree-image-signed:oci:/var/mnt/osupdate');
  });

  it('reads a host bootc does not manage (all null) as one without deployments', () => {
    expect(bootcState(parseBootcHost(load('spec-v1-null.json')), 'x')).toEqual({ deployments: [], booted: null, osnames: [] });
  });

  it.each(['spec-v1-null.json', 'spec-staged-locked.json'])('%s is valid under the published schema (the checker accepts it)', (f) => {
    expect(validateJsonSchema(schema, load(f))).toEqual([]);
  });

  it('the schema checker finds what the older examples lack (it can fail)', () => {
    expect(validateJsonSchema(schema, load('spec-staged-booted.json'))).toContain('$.status.staged.image.architecture: required');
  });
});

describe('the strict parser names the field', () => {
  const DELETE = Symbol('delete');
  /** The locked example with the value at `field` (a dotted path) replaced or deleted. */
  const mutated = (field: string, value: unknown): unknown => {
    const doc = load('spec-staged-locked.json') as Record<string, unknown>;
    const keys = field.split('.');
    const last = keys.pop()!;
    const parent = keys.reduce((o, k) => o[k] as Record<string, unknown>, doc);
    // Rebuilt without the key rather than `delete`d (a dynamic delete).
    const next = Object.fromEntries(Object.entries(parent).filter(([k]) => k !== last || value !== DELETE));
    if (value !== DELETE) next[last] = value;
    if (keys.length === 0) return next;
    keys.reduce((o, k, i) => (i === keys.length - 1 ? ((o[k] = next), o) : (o[k] as Record<string, unknown>)), doc);
    return doc;
  };
  it.each([
    ['a digest that is not sha256', 'status.staged.image.imageDigest', 'md5:abc', 'status.staged.image.imageDigest'],
    ['a missing ostree checksum', 'status.booted.ostree.checksum', DELETE, 'status.booted.ostree.checksum'],
    ['a string serial', 'status.booted.ostree.deploySerial', '0', 'status.booted.ostree.deploySerial'],
    ['an unknown transport', 'status.booted.image.image.transport', 'ftp', 'status.booted.image.image.transport'],
    ['a bad signature', 'status.booted.image.image.signature', 'maybe', 'status.booted.image.image.signature'],
    ['a non-boolean lock', 'status.staged.downloadOnly', 'yes', 'status.staged.downloadOnly'],
    ['an unparsable timestamp', 'status.staged.image.timestamp', 'yesterday', 'status.staged.image.timestamp'],
    ['a composefs-only entry', 'status.booted.ostree', DELETE, 'status.booted.ostree'],
    ['another kind', 'kind', 'Pod', 'kind'],
  ])('%s', (_what, path, value, field) => {
    let err: unknown = null;
    try {
      parseBootcHost(mutated(path, value));
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(BootcStatusError);
    expect(err).toMatchObject({ code: 'OSTREED_BOOTC_STATUS', field });
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseBootcStatusText('Staged: none')).toThrow(/bootc status: \(document\): not JSON/);
  });
});

describe('image references', () => {
  it.each([
    [{ image: 'r:5000/alt/atomic:stable', transport: 'registry', signature: { kind: 'containerPolicy' } }, 'ostree-image-signed:docker://r:5000/alt/atomic:stable'],
    [{ image: 'r/alt/atomic:stable', transport: 'registry', signature: { kind: 'ostreeRemote', remote: 'alt' } }, 'ostree-remote-image:alt:docker://r/alt/atomic:stable'],
    [{ image: 'localhost/alt:local', transport: 'containers-storage', signature: { kind: 'insecure' } }, 'ostree-unverified-image:containers-storage:localhost/alt:local'],
  ] as const)('%j is %s, and reads back as its image', (ref, text) => {
    expect(imageReference(ref)).toBe(text);
    expect(imageOfReference(text)).toBe(ref.image);
  });

  it('strips tag and digest but not a registry port', () => {
    expect(imageName('127.0.0.1:5000/alt/atomic:stable')).toBe('127.0.0.1:5000/alt/atomic');
    expect(imageName(`127.0.0.1:5000/alt/atomic@${D1}`)).toBe('127.0.0.1:5000/alt/atomic');
    expect(imageName('127.0.0.1:5000/alt/atomic')).toBe('127.0.0.1:5000/alt/atomic');
  });

  it('takes a digest or a pullspec with digest as a Deploy revision, nothing else', () => {
    expect(requestedDigest(D1)).toEqual({ name: null, digest: D1 });
    expect(requestedDigest(`r:5000/alt/atomic@${D1}`)).toEqual({ name: 'r:5000/alt/atomic', digest: D1 });
    expect(requestedDigest(null)).toBeNull();
    expect(() => requestedDigest('version=20260101.0')).toThrow(TransactionFailure);
  });
});
