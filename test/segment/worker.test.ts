/**
 * The server-side API on the Worker (workerd + local D1): the same write keys (migration 0004, Web Crypto hashing)
 * and the same /v1 mapping as on Node, through the official @segment/analytics-node client.
 */
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEvent, WriteKey } from '../../collector/core/store';
import { startWorker, type LocalWorker } from '../worker/start';

const TOKEN = 'segment-worker-token-0123456';

describe('the Segment-format API on workerd + D1', () => {
  let w: LocalWorker;
  beforeAll(async () => {
    w = await startWorker({ adminToken: TOKEN });
  });
  afterAll(async () => {
    await w?.stop();
  });

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${w.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    });

  it('creates a key, accepts analytics-node batches with it, and refuses it once revoked', async () => {
    const created = await admin('/api/sites/demo/keys', { method: 'POST', body: JSON.stringify({ name: 'worker' }) });
    expect(created.status).toBe(201);
    const { key, writeKey } = (await created.json()) as { key: string; writeKey: WriteKey };

    const now = Date.now();
    const statuses: number[] = [];
    const analytics = new Analytics({ writeKey: key, host: w.url, maxRetries: 0, flushInterval: 60_000 });
    analytics.on('http_response', (r) => statuses.push(r.status));
    analytics.identify({
      anonymousId: 'wk-visitor',
      userId: 'wu-1',
      traits: { plan: 'pro' },
      timestamp: new Date(now - 3000),
    });
    analytics.track({
      userId: 'wu-1',
      event: 'add_to_cart',
      properties: { sku: 'a' },
      timestamp: new Date(now - 2000),
    });
    analytics.track({
      userId: 'wu-1',
      event: 'Email Opened',
      context: { channel: 'email' },
      timestamp: new Date(now - 1000),
    });
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(statuses).toEqual([200]);

    const view = (await (await admin('/api/sites/demo/visitors/wk-visitor')).json()) as {
      visitor: { journey: string; visitors: string[] };
      journey: { currentStage: string };
      timeline: TimelineEvent[];
    };
    expect(view.visitor.journey).toBe('u:wu-1');
    expect(view.visitor.visitors).toHaveLength(2);
    expect(
      view.timeline.filter((e) => !e.synthetic).map((e) => [e.type, e.name ?? e.userId, e.channel ?? null]),
    ).toEqual([
      ['identify', 'wu-1', null],
      ['event', 'add_to_cart', null],
      ['event', 'Email Opened', 'email'],
    ]);
    expect(view.journey.currentStage).toBe('cart');

    const list = (await (await admin('/api/sites/demo/keys')).json()) as { keys: WriteKey[] };
    expect(list.keys).toEqual([{ ...writeKey, lastUsedAt: expect.any(Number) }]);

    expect((await admin(`/api/sites/demo/keys/${writeKey.id}`, { method: 'DELETE' })).status).toBe(200);
    const refused = await fetch(`${w.url}/v1/track`, {
      method: 'POST',
      headers: { Authorization: `Basic ${btoa(`${key}:`)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId: 'wu-1', event: 'late' }),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toMatch(/revoked/);
  });
});
