// SipHash-c-d over bytes with 64-bit BigInt lanes. Used to derive a client's rollout wariness from its
// node_uuid exactly like Fedora's policy engine, which hashes the string with Rust's DefaultHasher
// (SipHash-1-3, zero keys, the UTF-8 bytes followed by a 0xff terminator).

const MASK = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & MASK;

/** SipHash with `c` compression and `d` finalization rounds and a 128-bit key `(k0, k1)`. */
export function siphash(msg: Uint8Array, k0: bigint, k1: bigint, c: number, d: number): bigint {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = (): void => {
    v0 = (v0 + v1) & MASK; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & MASK; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & MASK; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const compress = (m: bigint): void => {
    v3 ^= m;
    for (let i = 0; i < c; i++) round();
    v0 ^= m;
  };
  const full = msg.length - (msg.length % 8);
  for (let off = 0; off < full; off += 8) {
    let m = 0n;
    for (let j = 7; j >= 0; j--) m = (m << 8n) | BigInt(msg[off + j]!);
    compress(m);
  }
  let last = BigInt(msg.length & 0xff) << 56n;
  for (let j = msg.length - 1; j >= full; j--) last |= BigInt(msg[j]!) << BigInt((j - full) * 8);
  compress(last);
  v2 ^= 0xffn;
  for (let i = 0; i < d; i++) round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK;
}

/** Rust's `DefaultHasher` hash of a `&str` (SipHash-1-3, zero keys, bytes + 0xff). */
export function rustStrHash(s: string): bigint {
  const bytes = Buffer.from(s, 'utf8');
  const msg = new Uint8Array(bytes.length + 1);
  msg.set(bytes);
  msg[bytes.length] = 0xff;
  return siphash(msg, 0n, 0n, 1, 3);
}
