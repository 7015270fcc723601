// Vectors recorded from Rust's std `DefaultHasher` (`str::hash`, rustc 1.95 on x86_64), the hash
// Fedora's graph server uses to place a node_uuid in a rollout: our wariness must match it exactly.
import { describe, expect, it } from 'vitest';
import { rustStrHash } from '../../../src/graph-server/siphash.js';

const RUST_DEFAULT_HASHER: readonly [string, string][] = [
  ['', '30406ea523c53def'],
  ['a', '719b50b9a4f0e9f3'],
  ['0ceb39846c524224853da5ada1fe4d7c', '61dd7c84373ed6ca'],
  ['e0f3745b108f471cbd4883c6fbed8cdd', 'a74033ccfdcec67c'],
  ['Привет, ALT', '5ce47da3727a338d'],
];

describe('src/graph-server/siphash', () => {
  it.each(RUST_DEFAULT_HASHER)('hashes %j exactly as Rust DefaultHasher does', (input, hex) => {
    expect(rustStrHash(input).toString(16).padStart(16, '0')).toBe(hex);
  });
});
