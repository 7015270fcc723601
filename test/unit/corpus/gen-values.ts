// Seeded generators of hostile JSON-like values and text mutations, shared by the corpus generators.
import type { Prng } from '../../helpers/faults.js';

/** Strings that break naive code: unicode planes, lone surrogates, NULs, prototype keys, huge. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\udfff',
  '😀🏳️‍🌈',
  'ж'.repeat(300),
  '__proto__',
  'constructor',
  'toString',
  '../../etc/passwd',
  '${stream}',
  '%s%n',
  'a'.repeat(70_000),
  '\u202e\u200b',
  '1e400',
  '-1',
  '99999999999999999999',
  '0x10',
  'NaN',
  'true',
  'null',
  '[]',
  '{}',
];

/** Numbers at the edges of representation. */
export const NASTY_NUMBERS: readonly number[] = [
  0, -0, 1, -1, 0.5, 2, 3, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 31, 2 ** 32, 4294967295, 1e21, 123456789012345680000,
];

/** A random JSON-compatible value of bounded depth. */
export function randomJson(r: Prng, depth = 3): unknown {
  const k = r.int(0, depth > 0 ? 7 : 4);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.chance(0.5) ? r.pick(NASTY_NUMBERS) : r.int(-1000, 1000);
    case 3:
    case 4:
      return r.chance(0.6) ? r.pick(NASTY_STRINGS) : randomString(r);
    case 5:
    case 6:
      return Array.from({ length: r.int(0, 4) }, () => randomJson(r, depth - 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(0, 4); i > 0; i--) o[r.chance(0.3) ? r.pick(NASTY_STRINGS) : randomString(r)] = randomJson(r, depth - 1);
      return o;
    }
  }
}

/** A short random string over ASCII, Cyrillic and astral code points. */
export function randomString(r: Prng): string {
  const alphabet = ['a', 'Z', '0', '9', '.', '-', '_', ' ', '"', '\\', '\n', 'ю', '€', '𝄞', '\t', '=', '[', ']', '{', '}', '#'];
  let s = '';
  for (let i = r.int(0, 12); i > 0; i--) s += r.pick(alphabet);
  return s;
}

/** Nested arrays `depth` deep around `inner`, as JSON text (the parser must not recurse on it). */
export function deepNestingText(depth: number, inner = '0'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

/** Applies one random textual mutation: cut, byte flip, insert, delete, duplicate a slice. */
export function mutateText(r: Prng, text: string): string {
  if (text.length === 0) return randomString(r);
  const at = r.int(0, text.length - 1);
  switch (r.int(0, 5)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ (1 << r.int(0, 6))) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + r.pick(['"', '{', '}', '[', ']', ',', ':', '\n', '=', '#', "'", '\\', '\u0000', '😀', 'true']) + text.slice(at);
    case 3:
      return text.slice(0, at) + text.slice(at + r.int(1, 20));
    case 4: {
      const end = Math.min(text.length, at + r.int(1, 40));
      return text.slice(0, end) + text.slice(at, end) + text.slice(end);
    }
    default:
      return text.replace(/[0-9]/, () => r.pick(['-', '99999999999999999999', '1e400', 'x', '']));
  }
}

/** Replaces the value at a random path inside `value` (objects and arrays) by `replacement`. */
export function replaceAtRandomPath(r: Prng, value: unknown, replacement: () => unknown): unknown {
  if (value === null || typeof value !== 'object' || r.chance(0.15)) return replacement();
  if (Array.isArray(value)) {
    if (value.length === 0) return replacement();
    const copy = [...value];
    const i = r.int(0, copy.length - 1);
    copy[i] = replaceAtRandomPath(r, copy[i], replacement);
    return copy;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement();
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const k = r.pick(keys);
  if (r.chance(0.2)) Reflect.deleteProperty(copy, k);
  else copy[k] = replaceAtRandomPath(r, copy[k], replacement);
  return copy;
}
