/**
 * scrypt (RFC 7914) in plain JavaScript over WebCrypto's PBKDF2-HMAC-SHA-256: how a runtime without a native scrypt
 * (Workers, whose WebCrypto has none and whose `node:crypto` the core may not import) still verifies a password
 * hashed on Node. Node hashes and verifies with `node:crypto`'s scrypt instead (injected by collector/node.ts through
 * AppOptions.kdf); test/teams/passwords.test.ts checks this one against it and against the RFC's vectors.
 *
 * Memory is 128·r·N bytes (32 MiB at N = 2^15, r = 8), allocated once per call.
 */

/** PBKDF2-HMAC-SHA-256 with one iteration: scrypt's first and last step. */
const pbkdf2Once = async (password: Uint8Array, salt: Uint8Array, bytes: number): Promise<Uint8Array> => {
  const key = await crypto.subtle.importKey('raw', password as Uint8Array<ArrayBuffer>, 'PBKDF2', false, [
    'deriveBits',
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, iterations: 1 },
    key,
    bytes * 8,
  );
  return new Uint8Array(bits);
};

/** Salsa20/8 of `b[bi..bi+16)` xor `x`, written back into `x` (the core of BlockMix, RFC 7914 §3). */
const salsaXor = (x: Uint32Array, b: Uint32Array, bi: number): void => {
  const j0 = (x[0]! ^= b[bi]!),
    j1 = (x[1]! ^= b[bi + 1]!),
    j2 = (x[2]! ^= b[bi + 2]!),
    j3 = (x[3]! ^= b[bi + 3]!),
    j4 = (x[4]! ^= b[bi + 4]!),
    j5 = (x[5]! ^= b[bi + 5]!),
    j6 = (x[6]! ^= b[bi + 6]!),
    j7 = (x[7]! ^= b[bi + 7]!),
    j8 = (x[8]! ^= b[bi + 8]!),
    j9 = (x[9]! ^= b[bi + 9]!),
    j10 = (x[10]! ^= b[bi + 10]!),
    j11 = (x[11]! ^= b[bi + 11]!),
    j12 = (x[12]! ^= b[bi + 12]!),
    j13 = (x[13]! ^= b[bi + 13]!),
    j14 = (x[14]! ^= b[bi + 14]!),
    j15 = (x[15]! ^= b[bi + 15]!);
  let x0 = j0,
    x1 = j1,
    x2 = j2,
    x3 = j3,
    x4 = j4,
    x5 = j5,
    x6 = j6,
    x7 = j7,
    x8 = j8,
    x9 = j9,
    x10 = j10,
    x11 = j11,
    x12 = j12,
    x13 = j13,
    x14 = j14,
    x15 = j15,
    u: number;
  for (let i = 0; i < 8; i += 2) {
    u = (x0 + x12) | 0;
    x4 ^= (u << 7) | (u >>> 25);
    u = (x4 + x0) | 0;
    x8 ^= (u << 9) | (u >>> 23);
    u = (x8 + x4) | 0;
    x12 ^= (u << 13) | (u >>> 19);
    u = (x12 + x8) | 0;
    x0 ^= (u << 18) | (u >>> 14);
    u = (x5 + x1) | 0;
    x9 ^= (u << 7) | (u >>> 25);
    u = (x9 + x5) | 0;
    x13 ^= (u << 9) | (u >>> 23);
    u = (x13 + x9) | 0;
    x1 ^= (u << 13) | (u >>> 19);
    u = (x1 + x13) | 0;
    x5 ^= (u << 18) | (u >>> 14);
    u = (x10 + x6) | 0;
    x14 ^= (u << 7) | (u >>> 25);
    u = (x14 + x10) | 0;
    x2 ^= (u << 9) | (u >>> 23);
    u = (x2 + x14) | 0;
    x6 ^= (u << 13) | (u >>> 19);
    u = (x6 + x2) | 0;
    x10 ^= (u << 18) | (u >>> 14);
    u = (x15 + x11) | 0;
    x3 ^= (u << 7) | (u >>> 25);
    u = (x3 + x15) | 0;
    x7 ^= (u << 9) | (u >>> 23);
    u = (x7 + x3) | 0;
    x11 ^= (u << 13) | (u >>> 19);
    u = (x11 + x7) | 0;
    x15 ^= (u << 18) | (u >>> 14);
    u = (x0 + x3) | 0;
    x1 ^= (u << 7) | (u >>> 25);
    u = (x1 + x0) | 0;
    x2 ^= (u << 9) | (u >>> 23);
    u = (x2 + x1) | 0;
    x3 ^= (u << 13) | (u >>> 19);
    u = (x3 + x2) | 0;
    x0 ^= (u << 18) | (u >>> 14);
    u = (x5 + x4) | 0;
    x6 ^= (u << 7) | (u >>> 25);
    u = (x6 + x5) | 0;
    x7 ^= (u << 9) | (u >>> 23);
    u = (x7 + x6) | 0;
    x4 ^= (u << 13) | (u >>> 19);
    u = (x4 + x7) | 0;
    x5 ^= (u << 18) | (u >>> 14);
    u = (x10 + x9) | 0;
    x11 ^= (u << 7) | (u >>> 25);
    u = (x11 + x10) | 0;
    x8 ^= (u << 9) | (u >>> 23);
    u = (x8 + x11) | 0;
    x9 ^= (u << 13) | (u >>> 19);
    u = (x9 + x8) | 0;
    x10 ^= (u << 18) | (u >>> 14);
    u = (x15 + x14) | 0;
    x12 ^= (u << 7) | (u >>> 25);
    u = (x12 + x15) | 0;
    x13 ^= (u << 9) | (u >>> 23);
    u = (x13 + x12) | 0;
    x14 ^= (u << 13) | (u >>> 19);
    u = (x14 + x13) | 0;
    x15 ^= (u << 18) | (u >>> 14);
  }
  x[0] = (x0 + j0) | 0;
  x[1] = (x1 + j1) | 0;
  x[2] = (x2 + j2) | 0;
  x[3] = (x3 + j3) | 0;
  x[4] = (x4 + j4) | 0;
  x[5] = (x5 + j5) | 0;
  x[6] = (x6 + j6) | 0;
  x[7] = (x7 + j7) | 0;
  x[8] = (x8 + j8) | 0;
  x[9] = (x9 + j9) | 0;
  x[10] = (x10 + j10) | 0;
  x[11] = (x11 + j11) | 0;
  x[12] = (x12 + j12) | 0;
  x[13] = (x13 + j13) | 0;
  x[14] = (x14 + j14) | 0;
  x[15] = (x15 + j15) | 0;
};

/** scryptBlockMix (RFC 7914 §4): `b` (2r blocks of 16 words) into `out`, `x` a 16-word scratch. */
const blockMix = (b: Uint32Array, out: Uint32Array, x: Uint32Array, r: number): void => {
  x.set(b.subarray((2 * r - 1) * 16, 2 * r * 16));
  for (let i = 0; i < 2 * r; i++) {
    salsaXor(x, b, i * 16);
    // Even blocks to the first half, odd ones to the second.
    out.set(x, ((i >> 1) + (i & 1) * r) * 16);
  }
};

/** scryptROMix (RFC 7914 §5) of one 128·r-byte block, in place. */
const roMix = (block: Uint32Array, n: number, r: number): void => {
  const words = 32 * r;
  const v = new Uint32Array(words * n);
  const x = new Uint32Array(words);
  const y = new Uint32Array(words);
  const t = new Uint32Array(16);
  x.set(block);
  for (let i = 0; i < n; i += 2) {
    v.set(x, i * words);
    blockMix(x, y, t, r);
    v.set(y, (i + 1) * words);
    blockMix(y, x, t, r);
  }
  for (let i = 0; i < n; i += 2) {
    let j = x[words - 16]! & (n - 1);
    for (let k = 0; k < words; k++) x[k]! ^= v[j * words + k]!;
    blockMix(x, y, t, r);
    j = y[words - 16]! & (n - 1);
    for (let k = 0; k < words; k++) y[k]! ^= v[j * words + k]!;
    blockMix(y, x, t, r);
  }
  block.set(x);
};

/**
 * scrypt(P, S, N, r, p, dkLen) of RFC 7914. `n` must be a power of two ≥ 2.
 *
 * @example
 * const key = await scryptJs(new TextEncoder().encode('password'), salt, 2 ** 15, 8, 1, 32)
 */
export const scryptJs = async (
  password: Uint8Array,
  salt: Uint8Array,
  n: number,
  r: number,
  p: number,
  keyLength: number,
): Promise<Uint8Array> => {
  if (n < 2 || (n & (n - 1)) !== 0) throw new Error('[cjm] scrypt N must be a power of two');
  const b = await pbkdf2Once(password, salt, p * 128 * r);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const words = 32 * r;
  const block = new Uint32Array(words);
  for (let i = 0; i < p; i++) {
    const at = i * 128 * r;
    for (let k = 0; k < words; k++) block[k] = view.getUint32(at + k * 4, true);
    roMix(block, n, r);
    for (let k = 0; k < words; k++) view.setUint32(at + k * 4, block[k]!, true);
  }
  return pbkdf2Once(password, b, keyLength);
};
