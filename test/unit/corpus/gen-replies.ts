// Seeded generators of foreign replies: FleetLock HTTP answers and rpm-ostree `aa{sv}` deployment
// lists (built from real dbus-next Variants, as the D-Bus adapter receives them).
import dbus from 'dbus-next';
import { createPrng, type Prng } from '../../helpers/faults.js';
import { NASTY_NUMBERS, NASTY_STRINGS, randomJson, randomString, replaceAtRandomPath } from './gen-values.js';

const { Variant } = dbus;

/** One generated HTTP answer of a FleetLock server. */
export interface HttpReplyCase {
  readonly family: string;
  readonly status: number;
  readonly body: string;
}

const STATUSES = [200, 201, 204, 299, 300, 302, 400, 401, 404, 409, 413, 423, 429, 500, 502, 503, 504, 599];
const KINDS = ['failed_lock_semaphore_full', 'store_unavailable', 'unknown_group', '', 'K'.repeat(129), 'ок', 'a b', 'x\ny', '__proto__'];

const replyFamilies: Record<string, (r: Prng) => string> = {
  error_body: (r) => JSON.stringify({ kind: r.pick<unknown>([...KINDS, 42, null, true, [], {}]), value: r.pick<unknown>([...NASTY_STRINGS.slice(0, 12), 1, null, {}]) }),
  random_json: (r) => JSON.stringify(randomJson(r, 3)),
  not_json: (r) => r.pick(['', 'Service Unavailable', '<html></html>', '{"kind":', '\u0000\u0001', '{"kind":"x"}'.repeat(3), 'x'.repeat(70 * 1024)]),
  wrong_kind_shape: (r) => JSON.stringify(r.pick<unknown>([[{ kind: 'a' }], { kind: { kind: 'a' } }, { Kind: 'a' }, 'kind', 7, { value: 'only value' }])),
};

/** Generates `count` FleetLock replies from `seed`. */
export function generateFleetLockReplies(seed: number, count: number): HttpReplyCase[] {
  const r = createPrng(seed);
  const names = Object.keys(replyFamilies);
  return Array.from({ length: count }, (_, i) => {
    const family = names[i % names.length]!;
    return { family, status: r.pick(STATUSES), body: replyFamilies[family]!(r) };
  });
}

/** Random request bodies for the server-side `client_params` validator. */
export function generateClientParamBodies(seed: number, count: number): unknown[] {
  const r = createPrng(seed);
  return Array.from({ length: count }, () =>
    r.pick<() => unknown>([
      () => randomJson(r, 3),
      () => ({ client_params: randomJson(r, 2) }),
      () => ({ client_params: { id: r.pick<unknown>([...NASTY_STRINGS, 1, null, 'x'.repeat(257)]), group: r.pick<unknown>([...NASTY_STRINGS, 'default', 'a.b-c', null]) } }),
      () => ({ client_params: { id: randomString(r) || 'n', group: randomString(r) } }),
    ])(),
  );
}

const hex = (r: Prng): string => Array.from({ length: 64 }, () => '0123456789abcdef'[r.int(0, 15)]).join('');

/** A valid `Sysroot.Deployments` value: booted (maybe with a staged one first and a rollback after). */
export function validDeployments(r: Prng): Record<string, InstanceType<typeof Variant>>[] {
  const dict = (serial: number, booted: boolean, staged: boolean): Record<string, InstanceType<typeof Variant>> => {
    const c = hex(r);
    const d: Record<string, InstanceType<typeof Variant>> = {
      id: new Variant('s', `altcos-${c}.${serial}`),
      osname: new Variant('s', 'altcos'),
      checksum: new Variant('s', c),
      serial: new Variant('i', serial),
      booted: new Variant('b', booted),
      origin: new Variant('s', 'altcos:altcos/x86_64/sisyphus'),
      version: new Variant('s', `2026110${serial}.0.0`),
      timestamp: new Variant('t', BigInt(1_700_000_000 + serial)),
      'base-commit-meta': new Variant('a{sv}', { 'ostree.manifest': new Variant('s', '{}') }),
    };
    if (staged) {
      d['staged'] = new Variant('b', true);
      d['finalization-locked'] = new Variant('b', r.chance(0.5));
    }
    return d;
  };
  const out = [];
  if (r.chance(0.5)) out.push(dict(2, false, true));
  out.push(dict(0, true, false));
  if (r.chance(0.5)) out.push(dict(1, false, false));
  return out;
}

const SIGNATURES = ['s', 'b', 'i', 'u', 't', 'x', 'o', 'as', 'a{sv}', 'v', ''];

function hostileVariantValue(r: Prng): unknown {
  return r.pick<() => unknown>([
    () => randomJson(r, 2),
    () => r.pick([-1n, 0n, 2n ** 63n, 2n ** 64n, -(2n ** 63n), BigInt(Number.MAX_SAFE_INTEGER)]),
    () => r.pick(NASTY_NUMBERS),
    () => r.pick(NASTY_STRINGS),
    () => new Variant(r.pick(SIGNATURES), randomJson(r, 1)),
  ])();
}

const KEYS = ['id', 'osname', 'checksum', 'serial', 'booted', 'staged', 'finalization-locked', 'pinned', 'origin', 'version', 'timestamp'];

const deploymentFamilies: Record<string, (r: Prng) => unknown> = {
  wrong_signature: (r) => {
    const ds = validDeployments(r);
    const d = r.pick(ds);
    const k = r.pick(KEYS);
    d[k] = new Variant(r.pick(SIGNATURES), d[k]?.value ?? hostileVariantValue(r));
    return ds;
  },
  wrong_value: (r) => {
    const ds = validDeployments(r);
    const d = r.pick(ds);
    const k = r.pick(KEYS);
    d[k] = new Variant(d[k]?.signature ?? r.pick(SIGNATURES), hostileVariantValue(r));
    return ds;
  },
  missing_key: (r) => {
    const ds = validDeployments(r);
    Reflect.deleteProperty(r.pick(ds), r.pick(KEYS));
    return ds;
  },
  unwrapped: (r) => {
    const ds: Record<string, unknown>[] = validDeployments(r);
    const d = r.pick(ds);
    const k = r.pick(KEYS);
    d[k] = r.chance(0.5) ? (d[k] as { value: unknown } | undefined)?.value : hostileVariantValue(r);
    return ds;
  },
  conflicting: (r) => {
    const ds = validDeployments(r);
    const flag = r.pick(['booted', 'staged']);
    for (const d of ds) d[flag] = new Variant('b', true);
    return ds;
  },
  random_structure: (r) => replaceAtRandomPath(r, validDeployments(r), () => hostileVariantValue(r)),
  not_a_list: (r) => r.pick<unknown>([null, undefined, {}, 'aa{sv}', 42, new Variant('aa{sv}', []), [null], [[]], [new Variant('a{sv}', {})]]),
};

/** One generated `Sysroot.Deployments` value. */
export interface DeploymentsCase {
  readonly family: string;
  readonly value: unknown;
}

/** Generates `count` deployment-list cases from `seed`. */
export function generateDeploymentCases(seed: number, count: number): DeploymentsCase[] {
  const r = createPrng(seed);
  const names = Object.keys(deploymentFamilies);
  return Array.from({ length: count }, (_, i) => {
    const family = names[i % names.length]!;
    return { family, value: deploymentFamilies[family]!(r) };
  });
}
