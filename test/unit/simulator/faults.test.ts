// `--fault KIND@START+DURATION` (src/simulator/faults.ts): durations round-trip, every well-formed
// fault parses to what it says, and anything else is refused with the flag and the bad part named.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFaults, FAULT_KINDS, formatDuration, parseDuration, parseFault } from '../../../src/simulator/faults.js';

const secsArb = fc.integer({ min: 0, max: 30 * 86400 });

describe('parseDuration', () => {
  it('reads back every duration formatDuration writes', () => {
    fc.assert(fc.property(secsArb, (secs) => parseDuration(formatDuration(secs)) === secs));
  });

  it('adds up the parts in any order and repetition (1h30m, 90m, 30m1h)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.constantFrom('s', 'm', 'h', 'd')), { minLength: 1, maxLength: 4 }), (parts) => {
        const unit = { s: 1, m: 60, h: 3600, d: 86400 } as const;
        return parseDuration(parts.map(([n, u]) => `${n}${u}`).join('')) === parts.reduce((a, [n, u]) => a + n * unit[u], 0);
      }),
    );
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['', '10', 'm', '1.5h', '-5m', '10 m', '10M', '1w', 'h1']) expect(parseDuration(bad)).toBeNull();
  });
});

describe('parseFault', () => {
  it('parses every KIND@START+DURATION to that kind, start and duration', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FAULT_KINDS), secsArb, fc.integer({ min: 1, max: 86400 }), (kind, at, dur) => {
        const f = parseFault(`${kind}@${formatDuration(at)}+${formatDuration(dur)}`);
        return f.kind === kind && f.atSecs === at && f.forSecs === dur;
      }),
    );
  });

  it('takes the examples of the usage text', () => {
    expect(parseFault('etcd-member@30m+10m')).toEqual({ kind: 'etcd-member', atSecs: 1800, forSecs: 600 });
    expect(parseFault('fleetlockd@40m+5m')).toEqual({ kind: 'fleetlockd', atSecs: 2400, forSecs: 300 });
    expect(parseFault('graphd@1h20m+90s')).toEqual({ kind: 'graphd', atSecs: 4800, forSecs: 90 });
  });

  it('refuses any string that is not kind@duration+duration>0, naming the flag and the value', () => {
    const wellFormed = /^(etcd-member|fleetlockd|graphd)@(\d+[smhd])+\+(\d+[smhd])+$/;
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        fc.pre(!wellFormed.test(text));
        try {
          parseFault(text);
          return false;
        } catch (err: unknown) {
          return (err as { code?: string }).code === 'SIM_USAGE' && (err as Error).message.startsWith(`--fault ${JSON.stringify(text)}:`);
        }
      }),
    );
    for (const bad of ['graphd@20m', 'graphd+5m', 'etcd@1m+1m', 'graphd@x+5m', 'graphd@5m+0s', 'graphd@5m+5']) expect(() => parseFault(bad)).toThrow(/--fault/);
    expect(() => parseFault('etcd@1m+1m')).toThrow(/unknown kind "etcd".*etcd-member, fleetlockd, graphd/);
  });
});

describe('checkFaults', () => {
  it('refuses a lock-server fault without alt-fleetlockd and an etcd fault without etcd', () => {
    expect(() => checkFaults([parseFault('fleetlockd@1m+1m')], { lockServer: false, etcd: false })).toThrow(/no alt-fleetlockd.*fleet_lock/);
    expect(() => checkFaults([parseFault('etcd-member@1m+1m')], { lockServer: true, etcd: false })).toThrow(/no etcd.*--store etcd/);
    expect(() => checkFaults([parseFault('graphd@1m+1m'), parseFault('etcd-member@1h+1m')], { lockServer: true, etcd: true })).not.toThrow();
  });
});
