/**
 * Signatures: the collector's signer against the verification snippets of docs/automation.md (extracted from the
 * document and run as they are, for Node and for Workers/Web Crypto), on a real delivery's headers and body.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptDelivery } from '../../collector/core/automation/deliver';
import { newSecret, signPayload, verifySignature } from '../../collector/core/automation/sign';
import type { ClaimedDelivery } from '../../collector/core/automation/types';
import { newStore, rule } from './helpers';

type Verify = (
  secret: string,
  body: string,
  signature: string | null,
  timestamp: string | null,
) => boolean | Promise<boolean>;

const snippet = (doc: string, marker: string): string => {
  const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const found = blocks.find((b) => b.startsWith(`// ${marker}\n`));
  if (!found) throw new Error(`docs/automation.md has no js block starting with // ${marker}`);
  return found;
};

let dir: string;
const verifiers: Record<string, Verify> = {};

beforeAll(async () => {
  const doc = readFileSync(new URL('../../docs/automation.md', import.meta.url), 'utf8');
  dir = mkdtempSync(join(tmpdir(), 'cjm-sign-'));
  for (const name of ['verify-node.mjs', 'verify-worker.mjs']) {
    const file = join(dir, name);
    writeFileSync(file, snippet(doc, name));
    verifiers[name] = ((await import(pathToFileURL(file).href)) as { verifyCjmSignature: Verify }).verifyCjmSignature;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['verify-node.mjs', 'verify-worker.mjs'])('the documented snippet %s', (name) => {
  it('accepts a delivery signed by the collector, refuses tampering, another secret, a stale timestamp', async () => {
    const verify = verifiers[name] as Verify;
    const store = await newStore();
    const secret = newSecret();
    const body = JSON.stringify({ deliveryId: 'dlv_1', rule: { id: 'r1' }, note: 'ünïcode ✓' });
    let sent: { headers: Record<string, string>; body: string } | undefined;
    const now = Date.now();
    const d: ClaimedDelivery = {
      id: 'dlv_1',
      site: 'demo',
      rule: 'r1',
      event: 'e1',
      visitor: 'v1',
      status: 'pending',
      attempts: 0,
      createdAt: now,
      nextAt: now,
      doneAt: null,
      lastStatus: null,
      lastError: null,
      body,
      claim: 'c',
    };
    const outcome = await attemptDelivery(
      d,
      rule({ type: 'event', event: 'x' }, { id: 'r1' }),
      { allowPrivateWebhooks: false },
      secret,
      {
        store,
        now: () => now,
        fetch: async (_url, init) => {
          sent = { headers: init.headers as Record<string, string>, body: init.body as string };
          return new Response('ok', { status: 200 });
        },
      },
    );
    expect(outcome.status).toBe('delivered');
    const h = sent!.headers;
    expect(h['Idempotency-Key']).toBe('dlv_1');
    expect(h['X-Cjm-Signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(sent!.body).toBe(body);

    expect(await verify(secret, sent!.body, h['X-Cjm-Signature']!, h['X-Cjm-Timestamp']!)).toBe(true);
    expect(await verify(secret, sent!.body.replace('r1', 'r2'), h['X-Cjm-Signature']!, h['X-Cjm-Timestamp']!)).toBe(
      false,
    );
    expect(await verify(newSecret(), sent!.body, h['X-Cjm-Signature']!, h['X-Cjm-Timestamp']!)).toBe(false);
    expect(await verify(secret, sent!.body, h['X-Cjm-Signature']!, String(Number(h['X-Cjm-Timestamp']) + 1))).toBe(
      false,
    );
    expect(await verify(secret, sent!.body, null, h['X-Cjm-Timestamp']!)).toBe(false);
    expect(await verify(secret, sent!.body, 'v1=zz', h['X-Cjm-Timestamp']!)).toBe(false);

    const old = Math.floor(now / 1000) - 600;
    expect(await verify(secret, body, await signPayload(secret, old, body), String(old))).toBe(false);
  });
});

describe('signPayload / verifySignature', () => {
  it('is HMAC-SHA256 hex over timestamp.body (a known vector)', async () => {
    // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
    expect(await signPayload('whsec_test', 1_700_000_000, '{"a":1}')).toBe(
      'v1=' +
        (await import('node:crypto')).createHmac('sha256', 'whsec_test').update('1700000000.{"a":1}').digest('hex'),
    );
    const sig = await signPayload('whsec_test', 1_700_000_000, '{"a":1}');
    expect(await verifySignature('whsec_test', sig, '1700000000', '{"a":1}', 1_700_000_000_000)).toBe(true);
    expect(await verifySignature('whsec_test', sig, '1700000000', '{"a":2}', 1_700_000_000_000)).toBe(false);
    expect(await verifySignature('whsec_test', sig, '1700000000', '{"a":1}', 1_700_000_000_000 + 301_000)).toBe(false);
  });
  it('uses fresh secrets', () => {
    expect(newSecret()).toMatch(/^whsec_[0-9a-f]{64}$/);
    expect(newSecret()).not.toBe(newSecret());
  });
});
