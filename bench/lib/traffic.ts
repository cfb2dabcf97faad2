/**
 * Synthetic shop traffic for the benchmarks: visitors who arrive through a channel, browse, and drop off along
 * landing → signup → cart → checkout → post-purchase, over one to three sessions; some identify. Deterministic
 * (seeded), so every run builds the same database. Events are ingested through the real path (`ingest`: the
 * dedup check, the fold and the atomic `commit`), one batch per session as the tag would send it.
 */
import { ingest } from '../../collector/core/ingest';
import type { WireEvent } from '../../collector/core/protocol';
import type { SiteConfig } from '../../collector/core/stages';
import type { Store } from '../../collector/core/store';

export const mulberry32 = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const LANDINGS = [
  '/?utm_source=google&utm_medium=cpc&gclid=abc',
  '/?utm_source=newsletter&utm_medium=email',
  '/products/mug',
  '/',
  '/blog/brewing',
  '/?utm_source=vk&utm_medium=social',
];
const REFERRERS = ['https://www.google.com/', 'https://yandex.ru/', 'https://t.me/', '', '', 'https://news.example/'];
const FLOW = [
  { path: '/signup', event: 'signup_completed' },
  { path: '/cart', event: 'add_to_cart' },
  { path: '/checkout', event: 'checkout_started' },
  { path: '/thank-you', event: 'purchase' },
];

/** The batches (one per session) of visitor number `n`; about `eventsPerVisitor` events in all. */
export const visitorBatches = (n: number, eventsPerVisitor: number, start: number, spanMs: number): WireEvent[][] => {
  const r = mulberry32(n * 7919 + 13);
  const sessions = 1 + Math.floor(r() * 3);
  let ts = start + Math.floor(r() * spanMs);
  let seq = 0;
  let step = 0;
  const batches: WireEvent[][] = [];
  const perSession = Math.max(1, Math.round(eventsPerVisitor / sessions));
  for (let s = 0; s < sessions; s++) {
    const batch: WireEvent[] = [];
    const landing = LANDINGS[Math.floor(r() * LANDINGS.length)]!;
    const referrer = REFERRERS[Math.floor(r() * REFERRERS.length)]!;
    batch.push({
      id: `b${n}-${seq++}`,
      type: 'page',
      ts,
      url: `https://shop.test${landing}`,
      ...(referrer ? { referrer } : {}),
    });
    while (batch.length < perSession) {
      ts += 5_000 + Math.floor(r() * 60_000);
      const x = r();
      const id = `b${n}-${seq++}`;
      if (step < FLOW.length && x < 0.3) {
        const f = FLOW[step++]!;
        batch.push(
          x < 0.15
            ? { id, type: 'page', ts, url: `https://shop.test${f.path}` }
            : { id, type: 'event', ts, name: f.event, props: { step } },
        );
      } else if (x < 0.8) {
        batch.push({
          id,
          type: 'page',
          ts,
          url: `https://shop.test/products/p${Math.floor(r() * 50)}`,
          title: 'Product',
        });
      } else if (x < 0.9) {
        batch.push({ id, type: 'event', ts, name: 'search', props: { q: `q${Math.floor(r() * 100)}` } });
      } else if (x < 0.95) {
        batch.push({ id, type: 'vital', ts, name: 'LCP', value: Math.round(800 + r() * 3000) });
      } else if (x < 0.97 && step > 0) {
        batch.push({ id, type: 'identify', ts, userId: `user${n}` });
      } else {
        batch.push({ id, type: 'feedback', ts, value: 1 + Math.floor(r() * 5) });
      }
    }
    batches.push(batch);
    ts += 45 * 60_000 + Math.floor(r() * 3 * 86400_000); // next session after the 30-minute timeout
  }
  return batches;
};

/** Ingests visitors `from` … `to - 1`; returns the number of events stored. */
export const ingestVisitors = async (
  store: Store,
  site: SiteConfig,
  from: number,
  to: number,
  opts: { eventsPerVisitor: number; start: number; spanMs: number; now: number },
): Promise<number> => {
  let events = 0;
  for (let n = from; n < to; n++) {
    for (const batch of visitorBatches(n, opts.eventsPerVisitor, opts.start, opts.spanMs)) {
      const res = await ingest(store, site, `bv${n}`, batch, opts.now, { device: 'desktop' });
      events += res.accepted;
    }
  }
  return events;
};
