/**
 * Password hashing: one stored format that records the algorithm and its parameters (PHC string format), so either
 * runtime verifies what the other wrote.
 *
 * - `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`: memory-hard, the format new hashes take where the runtime has a native
 *   scrypt (Node: `node:crypto`, injected by collector/node.ts through AppOptions.kdf, since the core never imports
 *   `node:*`). A runtime without one verifies it with the plain-JavaScript scrypt of core/scrypt.ts.
 * - `$pbkdf2-sha256$i=600000,c=100000$<salt>$<hash>`: PBKDF2-HMAC-SHA-256 through WebCrypto, what the Worker writes.
 *   Cloudflare refuses a single PBKDF2 call above 100,000 iterations (local workerd does not enforce it), so the `i`
 *   iterations run as i/c sequential calls of `c`: the first salted with the random salt, each next one salted with
 *   the previous output, the last output stored. Each call needs the one before, so a guess costs `i` HMAC iterations
 *   as a single derivation of `i` would; with `c = i` it is plain PBKDF2.
 *
 * Salts are 16 random bytes, hashes 32 bytes, both base64 without padding. Verification compares in constant time
 * and refuses parameters beyond MAX_* (a stored hash is data, not a licence to spend a minute of CPU).
 */
import { scryptJs } from './scrypt';

export interface ScryptCost {
  /** log2 of N (CPU/memory cost): 15 means N = 32,768, 32 MiB at r = 8. */
  ln: number;
  r: number;
  p: number;
}
export interface Pbkdf2Cost {
  iterations: number;
  /** Iterations per WebCrypto call (Cloudflare's ceiling is 100,000). */
  perCall: number;
}
export interface KdfCost {
  scrypt: ScryptCost;
  pbkdf2: Pbkdf2Cost;
  /** Set on costs below the production floor: only tests may pass one (createPasswordKdf refuses it otherwise). */
  testOnly?: true;
}

/** What production hashes with: OWASP's floors (scrypt N = 2^15, r = 8, p = 1; PBKDF2-SHA-256 600,000). */
export const PRODUCTION_KDF_COST: KdfCost = {
  scrypt: { ln: 15, r: 8, p: 1 },
  pbkdf2: { iterations: 600_000, perCall: 100_000 },
};

/** Cheap parameters for tests (a hash in about a millisecond). Never for real passwords. */
export const TEST_KDF_COST: KdfCost = {
  scrypt: { ln: 4, r: 8, p: 1 },
  pbkdf2: { iterations: 1000, perCall: 500 },
  testOnly: true,
};

/** The largest parameters a stored hash may ask for. */
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
export const MAX_PBKDF2_ITERATIONS = 10_000_000;

/** A runtime's native scrypt (Node's `crypto.scrypt`): the key of `keyLength` bytes. */
export type NativeScrypt = (
  password: Uint8Array,
  salt: Uint8Array,
  keyLength: number,
  cost: ScryptCost,
) => Promise<Uint8Array>;

export type PasswordAlgorithm = 'scrypt' | 'pbkdf2-sha256';

export interface PasswordKdf {
  /** The format this runtime writes. */
  readonly algorithm: PasswordAlgorithm;
  readonly cost: KdfCost;
  hash(password: string): Promise<string>;
  /** True when `password` is the one `stored` was made from; false for a wrong one or a malformed hash. */
  verify(password: string, stored: string): Promise<boolean>;
  /**
   * True when a stored hash should be replaced after a successful sign-in: below this runtime's cost, or PBKDF2 where
   * scrypt is available (never scrypt by PBKDF2: that would trade memory-hardness away).
   */
  needsRehash(stored: string): boolean;
  /** Spends what a verification costs, for a sign-in with an unknown e-mail (no timing oracle of who has an account). */
  burn(password: string): Promise<void>;
}

const SALT_BYTES = 16;
const HASH_BYTES = 32;

const b64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/=+$/, '');
const unb64 = (text: string): Uint8Array | null => {
  if (!/^[A-Za-z0-9+/]+$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
};

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
};

/** PBKDF2 in sequential calls of `perCall` iterations (see the header). */
export const pbkdf2Rounds = async (password: Uint8Array, salt: Uint8Array, cost: Pbkdf2Cost): Promise<Uint8Array> => {
  const key = await crypto.subtle.importKey('raw', password as Uint8Array<ArrayBuffer>, 'PBKDF2', false, [
    'deriveBits',
  ]);
  let out = salt;
  for (let done = 0; done < cost.iterations; done += cost.perCall) {
    const bits = await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: out as Uint8Array<ArrayBuffer>, iterations: cost.perCall },
      key,
      HASH_BYTES * 8,
    );
    out = new Uint8Array(bits);
  }
  return out;
};

/** A stored hash, parsed; null when it is not one of ours or asks for more than the limits. */
export type ParsedHash =
  | { algorithm: 'scrypt'; cost: ScryptCost; salt: Uint8Array; hash: Uint8Array }
  | { algorithm: 'pbkdf2-sha256'; cost: Pbkdf2Cost; salt: Uint8Array; hash: Uint8Array };

/** What a derivation needs of a hash: its algorithm, cost and salt. */
type HashParams = ParsedHash extends infer T ? (T extends ParsedHash ? Omit<T, 'hash'> : never) : never;

const params = (text: string, names: readonly string[]): Record<string, number> | null => {
  const out: Record<string, number> = {};
  const parts = text.split(',');
  if (parts.length !== names.length) return null;
  for (const [i, part] of parts.entries()) {
    const m = /^([a-z]+)=([1-9]\d{0,8})$/.exec(part);
    if (!m || m[1] !== names[i]) return null;
    out[m[1]!] = Number(m[2]);
  }
  return out;
};

export const parseHash = (stored: string): ParsedHash | null => {
  if (typeof stored !== 'string' || stored.length > 300) return null;
  const parts = stored.split('$');
  if (parts.length !== 5 || parts[0] !== '') return null;
  const [, id, p, s, h] = parts as [string, string, string, string, string];
  const salt = unb64(s);
  const hash = unb64(h);
  if (!salt || !hash || salt.length < 8 || hash.length < 16) return null;
  if (id === 'scrypt') {
    const v = params(p, ['ln', 'r', 'p']);
    if (!v) return null;
    const cost = { ln: v.ln!, r: v.r!, p: v.p! };
    if (cost.ln > 24 || 128 * 2 ** cost.ln * cost.r * cost.p > MAX_SCRYPT_MEMORY) return null;
    return { algorithm: 'scrypt', cost, salt, hash };
  }
  if (id === 'pbkdf2-sha256') {
    const v = params(p, ['i', 'c']);
    if (!v) return null;
    const cost = { iterations: v.i!, perCall: v.c! };
    if (cost.iterations > MAX_PBKDF2_ITERATIONS || cost.iterations % cost.perCall !== 0) return null;
    return { algorithm: 'pbkdf2-sha256', cost, salt, hash };
  }
  return null;
};

/** True when `cost` is below the production floor in any parameter. */
const belowProduction = (cost: KdfCost): boolean =>
  cost.scrypt.ln < PRODUCTION_KDF_COST.scrypt.ln ||
  cost.scrypt.r < PRODUCTION_KDF_COST.scrypt.r ||
  cost.pbkdf2.iterations < PRODUCTION_KDF_COST.pbkdf2.iterations;

export interface KdfOptions {
  /** The runtime's native scrypt; without it new hashes are PBKDF2 and scrypt ones are verified in JavaScript. */
  scrypt?: NativeScrypt;
  /** Default PRODUCTION_KDF_COST. A cost below it must say `testOnly: true` (TEST_KDF_COST does). */
  cost?: KdfCost;
}

/**
 * The password KDF of a runtime.
 *
 * @example
 * const kdf = createPasswordKdf({ scrypt: nodeScrypt })   // Node
 * const kdf = createPasswordKdf()                          // Workers: PBKDF2 through WebCrypto
 * const stored = await kdf.hash('correct horse battery staple')
 * await kdf.verify('correct horse battery staple', stored) // true
 */
export const createPasswordKdf = (options: KdfOptions = {}): PasswordKdf => {
  const cost = options.cost ?? PRODUCTION_KDF_COST;
  if (belowProduction(cost) && cost.testOnly !== true) {
    throw new Error(
      '[cjm] password KDF parameters below scrypt N=2^15, r=8 / PBKDF2 600,000 iterations are for tests only (testOnly: true)',
    );
  }
  const native = options.scrypt;
  const algorithm: PasswordAlgorithm = native ? 'scrypt' : 'pbkdf2-sha256';
  const enc = new TextEncoder();

  const derive = (password: Uint8Array, parsed: HashParams, length: number): Promise<Uint8Array> => {
    if (parsed.algorithm === 'pbkdf2-sha256') return pbkdf2Rounds(password, parsed.salt, parsed.cost);
    const c = parsed.cost;
    return native
      ? native(password, parsed.salt, length, c)
      : scryptJs(password, parsed.salt, 2 ** c.ln, c.r, c.p, length);
  };

  const hash = async (password: string): Promise<string> => {
    const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
    const pw = enc.encode(password);
    if (algorithm === 'scrypt') {
      const c = cost.scrypt;
      const key = await derive(pw, { algorithm, cost: c, salt }, HASH_BYTES);
      return `$scrypt$ln=${c.ln},r=${c.r},p=${c.p}$${b64(salt)}$${b64(key)}`;
    }
    const c = cost.pbkdf2;
    const key = await derive(pw, { algorithm, cost: c, salt }, HASH_BYTES);
    return `$pbkdf2-sha256$i=${c.iterations},c=${c.perCall}$${b64(salt)}$${b64(key)}`;
  };

  let dummy: Promise<string> | null = null;
  return {
    algorithm,
    cost,
    hash,
    async verify(password, stored) {
      const parsed = parseHash(stored);
      if (!parsed || typeof password !== 'string') return false;
      const key = await derive(enc.encode(password), parsed, parsed.hash.length);
      return equalBytes(key, parsed.hash);
    },
    needsRehash(stored) {
      const parsed = parseHash(stored);
      if (!parsed) return true;
      if (parsed.algorithm === 'scrypt') {
        const c = parsed.cost;
        return c.ln < cost.scrypt.ln || c.r < cost.scrypt.r || c.p < cost.scrypt.p;
      }
      return algorithm === 'scrypt' || parsed.cost.iterations < cost.pbkdf2.iterations;
    },
    async burn(password) {
      dummy ??= hash('cjm: no account has this e-mail');
      const parsed = parseHash(await dummy);
      if (parsed) await derive(enc.encode(password), parsed, parsed.hash.length);
    },
  };
};
