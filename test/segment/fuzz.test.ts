/**
 * Property test: whatever a sender posts to /v1, the answer is 200, 400 or 413 (never a 500), a refusal stores
 * nothing, and an accepted body stores only valid events.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { makeApp, type TestApp } from '../helpers';

let t: TestApp;
let db: ReturnType<typeof openSqlite>;
let key: string;
const statuses = new Map<number, number>();
beforeAll(async () => {
  db = openSqlite(':memory:');
  t = await makeApp(createSqliteStore(db));
  key = (await t.store.createWriteKey('demo', 'fuzz')).key;
});

const post = (path: string, body: string) =>
  t.app.request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Basic ${btoa(`${key}:`)}` },
    body,
  });

const count = async () => (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;

const scalar = fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const value = fc.oneof(
  scalar,
  fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 4 }),
  fc.array(scalar, { maxLength: 3 }),
);
/** Mostly a valid field, sometimes garbage. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: value, weight: 1 });
const props = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), value, { maxKeys: 12 });
const message = fc.record(
  {
    type: mostly(fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias')),
    userId: mostly(fc.constantFrom('u-1', 'u-2', '42')),
    anonymousId: mostly(fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 20 }))),
    previousId: mostly(fc.string({ minLength: 1, maxLength: 20 })),
    event: mostly(fc.constantFrom('add_to_cart', 'order_completed', 'Email Opened')),
    name: mostly(fc.string({ maxLength: 20 })),
    messageId: mostly(fc.string({ minLength: 1, maxLength: 80 })),
    timestamp: mostly(
      fc.integer({ min: -40, max: 2 }).map((d) => new Date(Date.UTC(2026, 10, 21, 10) + d * 86_400_000).toISOString()),
    ),
    channel: mostly(fc.constantFrom('email', 'sms', 'server', 'E-Mail')),
    stage: mostly(fc.constantFrom('cart', 'checkout', 'nope')),
    properties: mostly(props),
    traits: mostly(props),
    context: mostly(
      fc.record(
        {
          channel: mostly(fc.constantFrom('push', 'offline')),
          stage: mostly(fc.constantFrom('signup')),
          page: mostly(
            fc.record(
              {
                url: mostly(fc.webUrl()),
                referrer: mostly(fc.webUrl()),
                title: mostly(fc.string()),
                path: mostly(fc.string()),
              },
              { requiredKeys: [] },
            ),
          ),
          campaign: mostly(
            fc.record(
              {
                source: mostly(fc.string()),
                medium: mostly(fc.constantFrom('email', 'cpc')),
                name: mostly(fc.string()),
              },
              { requiredKeys: [] },
            ),
          ),
          traits: mostly(props),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);

describe('/v1 never answers 500', () => {
  it('for any JSON value on every endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias', 'batch'),
        fc.jsonValue(),
        async (endpoint, body) => {
          const res = await post(`/v1/${endpoint}`, JSON.stringify(body));
          expect([200, 400, 413]).toContain(res.status);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('for Segment-shaped messages and batches; a refusal stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 6 }), fc.boolean(), async (messages, asBatch) => {
        const before = await count();
        const res = asBatch
          ? await post('/v1/batch', JSON.stringify({ batch: messages, sentAt: new Date().toISOString() }))
          : await post(
              `/v1/${typeof messages[0]!.type === 'string' ? messages[0]!.type : 'track'}`,
              JSON.stringify(messages[0]),
            );
        const json = (await res.json()) as { success: boolean; path?: string };
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) expect(json.success).toBe(true);
        else {
          expect([400, 404, 413]).toContain(res.status);
          if (res.status !== 404) expect(await count()).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
    // The generator reaches both sides: some bodies are stored, some refused.
    expect(statuses.get(200)).toBeGreaterThan(10);
    expect(statuses.get(400)).toBeGreaterThan(10);
    expect(await count()).toBeGreaterThan(10);
  });
});
