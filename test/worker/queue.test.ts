/**
 * The Worker with its ingest queue (wrangler.toml `INGEST`, local on workerd): /collect and /v1/* answer once the
 * queue has the request, the consumer stores each batch with one ingest, and a message delivered again after its
 * commit (a consumer that died before acknowledging) adds nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers';
import { startWorker, type LocalWorker } from './start';

const TOKEN = 'queue-test-token-0123456789';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
/** Visitors whose first delivery fails after the commit (the Worker's test-only CJM_TEST_QUEUE_CRASH). */
const CRASH = 'crash-';
const now = Date.now();
let seq = 0;
const page = (path: string) => {
  const ts = now - 60_000 + ++seq;
  return { id: `q${seq}-${ts}`, type: 'page', ts, url: `https://shop.test${path}` };
};
/** Consumer batches wait up to max_batch_timeout (1 s); a crashed batch comes back after retry_delay (5 s). */
const WAIT = { timeoutMs: 30_000, intervalMs: 100 };

describe('the Worker with its ingest queue on workerd + D1', () => {
  let w: LocalWorker;
  beforeAll(async () => {
    w = await startWorker({ adminToken: TOKEN, assets: false, queue: true, vars: { CJM_TEST_QUEUE_CRASH: CRASH } });
  }, 60_000);
  afterAll(async () => {
    await w?.stop();
  });

  const collect = (body: unknown) =>
    fetch(`${w.url}/collect`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
      body: JSON.stringify(body),
    });
  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${w.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const timeline = async (visitor: string): Promise<string[]> => {
    const res = await api<{ timeline?: Array<{ id: string }> }>(
      `/api/sites/demo/visitors/${encodeURIComponent(visitor)}`,
    );
    return res.status === 200 ? (res.body.timeline ?? []).map((e) => e.id) : [];
  };
  const stored = async (): Promise<number> =>
    (await api<{ totals: { stored: number } }>('/api/sites/demo/counters')).body.totals.stored;

  it('answers /collect with 202 once queued; the consumer stores it, and a resent batch adds no duplicate', async () => {
    const events = [page('/'), page('/cart'), page('/checkout')];
    const first = await collect({ site: 'demo', visitor: 'qv1', events });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: 3, duplicates: 0, queued: true });
    await waitFor(async () => (await timeline('qv1')).length === 3, { ...WAIT, what: 'the queued events stored' });
    expect(await timeline('qv1')).toEqual(events.map((e) => e.id));

    // The tag's retry of a batch whose answer was lost, with one more event: only that one is added.
    const more = page('/thank-you');
    const again = await collect({ site: 'demo', visitor: 'qv1', events: [...events, more] });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ accepted: 4, duplicates: 0, queued: true });
    await waitFor(async () => (await timeline('qv1')).includes(more.id), { ...WAIT, what: 'the resent batch stored' });
    expect(await timeline('qv1')).toEqual([...events, more].map((e) => e.id));
  });

  it('still refuses bad input before queuing it', async () => {
    const bad = await collect({ site: 'demo', visitor: 'qv2', events: [{ id: 'a', type: 'nope', ts: now }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { path?: string }).path).toBe('events[0].type');
    const unknown = await collect({ site: 'nope', visitor: 'qv2', events: [page('/')] });
    expect(unknown.status).toBe(404);
  });

  it('queues a /v1/batch of many visitors (one message each) and stores every one', async () => {
    const key = await api<{ key: string }>('/api/sites/demo/keys', { method: 'POST', body: '{"name":"queue test"}' });
    expect(key.status).toBe(201);
    const ids = Array.from({ length: 30 }, (_, i) => `qa-${i}-${now}`);
    const batch = ids.flatMap((anonymousId, i) => [
      { type: 'page', anonymousId, messageId: `m${i}a-${now}`, properties: { url: 'https://shop.test/' } },
      { type: 'track', anonymousId, messageId: `m${i}b-${now}`, event: 'add_to_cart' },
    ]);
    const res = await fetch(`${w.url}/v1/batch`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${btoa(`${key.body.key}:`)}` },
      body: JSON.stringify({ batch }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    await waitFor(async () => (await timeline(ids[ids.length - 1]!)).length === 2, {
      ...WAIT,
      what: '/v1/batch stored',
    });
    for (const id of ids) expect(await timeline(id)).toHaveLength(2);
  });

  it('a batch redelivered after its commit (the consumer died before acknowledging) adds no duplicate', async () => {
    const before = await stored();
    const visitor = `${CRASH}1`;
    const events = [page('/'), page('/cart'), page('/checkout'), page('/thank-you')];
    const res = await collect({ site: 'demo', visitor, events });
    expect(res.status).toBe(202);
    await waitFor(async () => (await timeline(visitor)).length > 0, { ...WAIT, what: 'the first delivery stored' });
    // The consumer failed after that commit; the queue delivers the batch again, which finds the events stored.
    await waitFor(
      async () => ((await (await fetch(`${w.url}/__test/queue`)).json()) as { redelivered: number }).redelivered > 0,
      { ...WAIT, what: 'the redelivery' },
    );
    const q = (await (await fetch(`${w.url}/__test/queue`)).json()) as { crashed: number; redelivered: number };
    expect(q.crashed).toBeGreaterThan(0);
    expect(await timeline(visitor)).toEqual(events.map((e) => e.id));
    expect(await stored()).toBe(before + events.length);
  });
});
