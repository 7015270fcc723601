import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OstreeBadReplyError } from '../../../src/ostree/client/errors.js';
import { parseDeployment, parseDeploymentSet } from '../../../src/ostree/client/parse.js';

/** A dbus-next Variant as the parser sees it (plain shape; the parser never imports dbus-next). */
const v = (signature: string, value: unknown): { signature: string; value: unknown } => ({ signature, value });

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const validDict = fc.record({
  checksum: hex64,
  serial: fc.integer({ min: 0, max: 1000 }),
  booted: fc.boolean(),
  staged: fc.option(fc.boolean(), { nil: undefined }),
  locked: fc.option(fc.constant(true), { nil: undefined }),
  version: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
  stream: fc.option(fc.stringMatching(/^[a-z0-9]{1,10}$/), { nil: undefined }),
  timestamp: fc.option(fc.bigInt({ min: 1n, max: 4_000_000_000n }), { nil: undefined }),
});
type Valid = typeof validDict extends fc.Arbitrary<infer T> ? T : never;

function toDict(d: Valid): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: v('s', `altcos-${d.checksum}.${d.serial}`),
    osname: v('s', 'altcos'),
    checksum: v('s', d.checksum),
    serial: v('i', d.serial),
    booted: v('b', d.booted),
    pinned: v('b', false),
    unlocked: v('s', 'none'),
    'base-commit-meta': v('a{sv}', { 'ostree.manifest': v('s', '{}') }),
  };
  if (d.staged !== undefined) out['staged'] = v('b', d.staged);
  if (d.locked !== undefined) out['finalization-locked'] = v('b', d.locked);
  if (d.version !== undefined) out['version'] = v('s', d.version);
  if (d.stream !== undefined) out['origin'] = v('s', `altcos:altcos/x86_64/${d.stream}`);
  if (d.timestamp !== undefined) out['timestamp'] = v('t', d.timestamp);
  return out;
}

describe('src/ostree/client/parse', () => {
  it('parses every valid deployment dict into the matching domain fields (property)', () => {
    fc.assert(
      fc.property(validDict, (d) => {
        const p = parseDeployment(toDict(d), 'Deployments[0]');
        expect(p).toEqual({
          id: `altcos-${d.checksum}.${d.serial}`,
          osname: 'altcos',
          checksum: d.checksum,
          version: d.version ?? null,
          origin: d.stream === undefined ? null : `altcos:altcos/x86_64/${d.stream}`,
          stream: d.stream ?? null,
          timestampMs: d.timestamp === undefined ? 0 : Number(d.timestamp) * 1000,
          serial: d.serial,
          booted: d.booted,
          staged: d.staged ?? false,
          finalizationLocked: d.locked ?? false,
          pinned: false,
        });
      }),
    );
  });

  const fields = ['id', 'osname', 'checksum', 'serial', 'booted', 'staged', 'finalization-locked', 'version', 'origin', 'timestamp', 'pinned'];
  it('names the field when a value has the wrong D-Bus type (property)', () => {
    fc.assert(
      fc.property(validDict, fc.constantFrom(...fields), fc.constantFrom('s', 'b', 'i', 't', 'as'), (d, field, sig) => {
        const dict = toDict(d);
        const good = { id: 's', osname: 's', checksum: 's', serial: 'i', booted: 'b', staged: 'b', 'finalization-locked': 'b', version: 's', origin: 's', timestamp: 't', pinned: 'b' }[field];
        fc.pre(sig !== good);
        dict[field] = v(sig, sig === 'as' ? [] : sig === 't' ? 1n : sig === 'b' ? true : sig === 'i' ? 1 : 'x');
        try {
          parseDeployment(dict, 'Deployments[3]');
          return false;
        } catch (err: unknown) {
          return err instanceof OstreeBadReplyError && err.field === `Deployments[3].${field}` && err.kind === 'ostree_bad_reply';
        }
      }),
    );
  });

  it('never throws anything but OstreeBadReplyError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true }), (junk) => {
        try {
          parseDeploymentSet(junk);
        } catch (err: unknown) {
          return err instanceof OstreeBadReplyError;
        }
        return true;
      }),
    );
  });

  it.each([
    ['id', 'missing'],
    ['checksum', 'missing'],
    ['serial', 'missing'],
    ['booted', 'missing'],
  ])('requires %s', (field) => {
    const dict = toDict({ checksum: 'a'.repeat(64), serial: 0, booted: true, staged: undefined, locked: undefined, version: undefined, stream: undefined, timestamp: undefined });
    const without = Object.fromEntries(Object.entries(dict).filter(([k]) => k !== field));
    expect(() => parseDeployment(without, 'D')).toThrow(expect.objectContaining({ field: `D.${field}` }) as Error);
  });

  it('rejects a checksum that is not 64 lowercase hex digits', () => {
    const dict = toDict({ checksum: 'a'.repeat(64), serial: 0, booted: true, staged: undefined, locked: undefined, version: undefined, stream: undefined, timestamp: undefined });
    dict['checksum'] = v('s', 'A'.repeat(64));
    expect(() => parseDeployment(dict, 'D')).toThrow(/D\.checksum: expected 64 lowercase hex digits/);
  });

  it('finds booted, staged and rollback like ostree_sysroot_query_deployments_for', () => {
    const mk = (checksum: string, booted: boolean, staged: boolean): Record<string, unknown> =>
      toDict({ checksum, serial: 0, booted, staged, locked: staged ? true : undefined, version: undefined, stream: 'sisyphus', timestamp: 1n });
    const set = parseDeploymentSet([mk('b'.repeat(64), false, true), mk('a'.repeat(64), true, false), mk('c'.repeat(64), false, false)]);
    expect(set.staged?.checksum).toBe('b'.repeat(64));
    expect(set.booted?.checksum).toBe('a'.repeat(64));
    expect(set.rollback?.checksum).toBe('c'.repeat(64));
    expect(set.deployments).toHaveLength(3);
    expect(parseDeploymentSet([mk('a'.repeat(64), false, false)]).booted).toBeNull();
    expect(() => parseDeploymentSet([mk('a'.repeat(64), true, false), mk('c'.repeat(64), true, false)])).toThrow(/2 deployments claim to be booted/);
  });
});
