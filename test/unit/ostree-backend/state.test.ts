import { describe, expect, it } from 'vitest';
import { isAllowed } from '../../../src/ostree/backend/authorize.js';
import type { SysrootSnapshot } from '../../../src/ostree/backend/ostree-cli.js';
import { buildState, deploymentDict, queryDeploymentsFor } from '../../../src/ostree/backend/state.js';
import type { StatusEntry } from '../../../src/ostree/backend/status-parse.js';

const cs = (ch: string): string => ch.repeat(64);
const entry = (ch: string, over: Partial<StatusEntry> = {}): StatusEntry => ({
  osname: 'altcos',
  checksum: cs(ch),
  serial: 0,
  booted: false,
  staged: false,
  pending: false,
  rollback: false,
  lockedByOstree: false,
  pinned: false,
  unlocked: 'none',
  version: '1',
  origin: 'altcos:altcos/x86_64/p11',
  ...over,
});
const snap = (entries: StatusEntry[], lockFilePresent = false): SysrootSnapshot => ({
  entries,
  lockFilePresent,
  raw: '',
  commits: new Map(entries.map((e) => [e.checksum, { checksum: e.checksum, parent: null, timestampSecs: 1_700_000_000, version: e.version }])),
});

describe('buildState and queryDeploymentsFor', () => {
  it('finds pending (staged) before and rollback after the booted deployment', () => {
    const state = buildState(snap([entry('c', { staged: true }), entry('b', { booted: true }), entry('a', { rollback: true })], true));
    const { pending, rollback } = queryDeploymentsFor(state, 'altcos');
    expect(pending?.checksum).toBe(cs('c'));
    expect(pending?.finalizationLocked).toBe(true);
    expect(rollback?.checksum).toBe(cs('a'));
    expect(state.booted?.id).toBe(`altcos-${cs('b')}.0`);
  });

  it('ignores other stateroots and treats an unbooted sysroot as all-pending', () => {
    const state = buildState(snap([entry('b', { osname: 'other' }), entry('a')]));
    expect(queryDeploymentsFor(state, 'altcos')).toMatchObject({ pending: { checksum: cs('a') }, rollback: null });
  });

  it('marks only a staged deployment as finalization-locked', () => {
    const state = buildState(snap([entry('b', { booted: true })], true));
    expect(state.deployments[0]?.finalizationLocked).toBe(false);
  });
});

describe('deploymentDict', () => {
  it('carries rpm-ostree keys and types, finalization-locked only when true', () => {
    const [staged, booted] = buildState(snap([entry('c', { staged: true }), entry('b', { booted: true })], true)).deployments;
    const d = deploymentDict(staged!);
    expect(d['finalization-locked']).toEqual({ type: 'b', value: true });
    expect(d['timestamp']).toEqual({ type: 't', value: 1_700_000_000n });
    expect(d['serial']).toEqual({ type: 'i', value: 0 });
    expect(d['base-commit-meta']).toEqual({ type: 'a{sv}', value: { version: { type: 's', value: '1' } } });
    expect(deploymentDict(booted!)).not.toHaveProperty('finalization-locked');
  });
});

describe('authorisation rule', () => {
  it.each([
    [0, 'Deploy', [], [], true],
    [990, 'Deploy', [990], ['Deploy'], true],
    [990, 'Rollback', [990], ['Deploy'], false],
    [991, 'Deploy', [990], ['Deploy'], false],
  ])('uid %i calling %s (users %j, methods %j) -> %s', (uid, member, uids, methods, allowed) => {
    expect(isAllowed(uid, member, uids, methods)).toBe(allowed);
  });
});
