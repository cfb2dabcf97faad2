/**
 * Password hashing (issue 17, core/passwords.ts and core/scrypt.ts): the plain-JavaScript scrypt against RFC 7914's
 * vectors and Node's own; one stored format both runtimes verify (scrypt written on Node, PBKDF2-SHA-256 where there
 * is no native scrypt); salted; production parameters by default; hostile stored hashes refused; rehash rules.
 */
import { scrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createPasswordKdf,
  parseHash,
  pbkdf2Rounds,
  PRODUCTION_KDF_COST,
  TEST_KDF_COST,
} from '../../collector/core/passwords';
import { scryptJs } from '../../collector/core/scrypt';
import { nodeScrypt } from '../../collector/node';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const enc = (s: string) => new TextEncoder().encode(s);

describe('scrypt in JavaScript', () => {
  it("gives RFC 7914's test vectors", async () => {
    expect(hex(await scryptJs(enc(''), enc(''), 16, 1, 1, 64))).toBe(
      '77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906',
    );
    expect(hex(await scryptJs(enc('password'), enc('NaCl'), 1024, 8, 16, 64))).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    );
  });

  it("equals Node's scrypt for other passwords, salts and parameters", async () => {
    const cases: Array<[string, string, number, number, number, number]> = [
      ['correct horse battery staple', 'salt-0123456789', 2 ** 10, 8, 1, 32],
      ['ünïcödé “quotes” 🔑', '\u0000\u00ff', 2 ** 4, 1, 2, 17],
      ['x'.repeat(300), 's', 2 ** 6, 3, 1, 100],
    ];
    for (const [pw, salt, N, r, p, len] of cases) {
      const node = await new Promise<Buffer>((ok, fail) =>
        scrypt(pw, salt, len, { N, r, p }, (e, k) => (e ? fail(e) : ok(k))),
      );
      expect(hex(await scryptJs(enc(pw), enc(salt), N, r, p, len))).toBe(node.toString('hex'));
    }
  });
});

describe('the password KDF', () => {
  const nodeKdf = createPasswordKdf({ scrypt: nodeScrypt, cost: TEST_KDF_COST });
  const workerKdf = createPasswordKdf({ cost: TEST_KDF_COST });

  it('writes scrypt with a native scrypt and PBKDF2 without one; each verifies what the other wrote', async () => {
    const onNode = await nodeKdf.hash('a password of mine');
    const onWorker = await workerKdf.hash('a password of mine');
    expect(onNode).toMatch(/^\$scrypt\$ln=4,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(onWorker).toMatch(/^\$pbkdf2-sha256\$i=1000,c=500\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    for (const kdf of [nodeKdf, workerKdf]) {
      for (const stored of [onNode, onWorker]) {
        expect(await kdf.verify('a password of mine', stored)).toBe(true);
        expect(await kdf.verify('a password of mine ', stored)).toBe(false);
        expect(await kdf.verify('', stored)).toBe(false);
      }
    }
  });

  it('salts every hash: the same password twice gives two hashes', async () => {
    const a = await nodeKdf.hash('same password here');
    const b = await nodeKdf.hash('same password here');
    expect(a).not.toBe(b);
    expect(parseHash(a)!.salt).not.toEqual(parseHash(b)!.salt);
  });

  it('PBKDF2 in calls of c iterations chains them: with c = i it is plain PBKDF2-SHA-256', async () => {
    const salt = enc('0123456789abcdef');
    const plain = await pbkdf2Rounds(enc('pw'), salt, { iterations: 1000, perCall: 1000 });
    const node = await import('node:crypto').then((c) => c.pbkdf2Sync('pw', salt, 1000, 32, 'sha256'));
    expect(hex(plain)).toBe(node.toString('hex'));
    const chained = await pbkdf2Rounds(enc('pw'), salt, { iterations: 1000, perCall: 500 });
    const first = await import('node:crypto').then((c) => c.pbkdf2Sync('pw', salt, 500, 32, 'sha256'));
    const second = await import('node:crypto').then((c) => c.pbkdf2Sync('pw', first, 500, 32, 'sha256'));
    expect(hex(chained)).toBe(second.toString('hex'));
  });

  it('uses the production floor by default and refuses a cheaper cost unless it says it is for tests', () => {
    expect(PRODUCTION_KDF_COST).toEqual({
      scrypt: { ln: 15, r: 8, p: 1 },
      pbkdf2: { iterations: 600_000, perCall: 100_000 },
    });
    expect(createPasswordKdf().cost).toBe(PRODUCTION_KDF_COST);
    expect(createPasswordKdf({ scrypt: nodeScrypt }).algorithm).toBe('scrypt');
    expect(createPasswordKdf().algorithm).toBe('pbkdf2-sha256');
    const { testOnly: _, ...cheap } = TEST_KDF_COST;
    expect(() => createPasswordKdf({ cost: cheap })).toThrow(/for tests only/);
  });

  it('verifies a production-cost hash from either runtime', async () => {
    const prod = createPasswordKdf({ scrypt: nodeScrypt });
    const stored = await prod.hash('production password');
    expect(stored).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    expect(await prod.verify('production password', stored)).toBe(true);
    expect(await createPasswordKdf().verify('production password', stored)).toBe(true);
  }, 60_000);

  it('refuses malformed stored hashes and parameters beyond the limits (a hash is data, not a licence)', async () => {
    const good = await workerKdf.hash('some password');
    const [, , , salt, hash] = good.split('$');
    for (const bad of [
      '',
      'plain text',
      `$md5$x$${salt}$${hash}`,
      `$scrypt$ln=25,r=8,p=1$${salt}$${hash}`,
      `$scrypt$ln=20,r=16,p=16$${salt}$${hash}`,
      `$pbkdf2-sha256$i=20000000,c=100000$${salt}$${hash}`,
      `$pbkdf2-sha256$i=1000,c=300$${salt}$${hash}`,
      `$pbkdf2-sha256$i=1000$${salt}$${hash}`,
      `$pbkdf2-sha256$i=1000,c=500$${salt}$***`,
      `$pbkdf2-sha256$i=01000,c=500$${salt}$${hash}`,
      `${good}$extra`,
    ]) {
      expect(parseHash(bad), bad).toBeNull();
      expect(await workerKdf.verify('some password', bad)).toBe(false);
    }
  });

  it('asks for a rehash below its cost, or of PBKDF2 where scrypt is at hand, never of scrypt by PBKDF2', async () => {
    const prodNode = createPasswordKdf({ scrypt: nodeScrypt });
    const prodWorker = createPasswordKdf();
    const cheapScrypt = await nodeKdf.hash('p4ssword-long');
    const cheapPbkdf2 = await workerKdf.hash('p4ssword-long');
    expect(prodNode.needsRehash(cheapScrypt)).toBe(true);
    expect(prodNode.needsRehash(cheapPbkdf2)).toBe(true);
    expect(prodWorker.needsRehash(cheapPbkdf2)).toBe(true);
    expect(nodeKdf.needsRehash(cheapScrypt)).toBe(false);
    expect(nodeKdf.needsRehash(cheapPbkdf2)).toBe(true);
    expect(workerKdf.needsRehash(cheapScrypt)).toBe(false);
    expect(workerKdf.needsRehash('garbage')).toBe(true);
  });
});
