import { describe, expect, it } from 'vitest';
import { osObjectPath, parseRevision, splitRefspec } from '../../../src/ostree/backend/revision.js';

const HEX = '0123456789abcdef'.repeat(4);

describe('parseRevision (rpm-ostree rules)', () => {
  it.each([
    [`revision=${HEX}`, { kind: 'checksum', checksum: HEX }],
    [`REVISION=${HEX.toUpperCase()}`, { kind: 'checksum', checksum: HEX }],
    [HEX, { kind: 'checksum', checksum: HEX }],
    ['version=36.20220101', { kind: 'version', version: '36.20220101' }],
    ['Version=1.0', { kind: 'version', version: '1.0' }],
    ['20240101.0', { kind: 'version', version: '20240101.0' }],
    [HEX.slice(1), { kind: 'version', version: HEX.slice(1) }],
  ])('%s', (input, expected) => {
    expect(parseRevision(input)).toEqual(expected);
  });

  it('rejects revision= with something other than 64 hex digits', () => {
    expect(() => parseRevision('revision=abc')).toThrow("Invalid checksum 'abc'");
  });
});

describe('osObjectPath (rpm-ostree generate_object_path)', () => {
  it.each([
    ['altcos', '/org/projectatomic/rpmostree1/altcos'],
    ['fedora-coreos', '/org/projectatomic/rpmostree1/fedora_coreos'],
    ['a.b', '/org/projectatomic/rpmostree1/a_2Eb'],
  ])('%s -> %s', (name, path) => {
    expect(osObjectPath(name)).toBe(path);
  });
});

describe('splitRefspec', () => {
  it('splits remote and ref, keeping a local ref remote-less', () => {
    expect(splitRefspec('altcos:altcos/x86_64/p11')).toEqual({ remote: 'altcos', ref: 'altcos/x86_64/p11' });
    expect(splitRefspec('altcos/x86_64/p11')).toEqual({ remote: null, ref: 'altcos/x86_64/p11' });
  });
});
