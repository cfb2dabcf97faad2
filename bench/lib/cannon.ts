/**
 * autocannon against `POST /collect` with fresh events in every request (unique ids, so every request is a real
 * write, not a duplicate), and a bare `node:http` server answering 204 as the baseline.
 */
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';

export const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export interface CannonResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

let run = 0;
const DAY = 86_400_000;
const RULE_EVENTS = ['add_to_cart', 'purchase', 'review_submitted', 'subscription_renewed', 'signup_completed'];

/**
 * A request body of `n` new events for a visitor; each visitor gets five batches, like a short visit. With
 * `lifecycle`, traffic for stage rules beyond names: each visitor's first batch is 20 days old (so the next one is a
 * return), and a third of the events are orders (with a value, some flagged `test`), reviews, renewals, sign-ups.
 */
export const bodyFactory = (n: number, lifecycle = false) => {
  const tag = `${process.pid}r${++run}`;
  let seq = 0;
  return () => {
    const k = seq++;
    const visitor = `lv${tag}-${Math.floor(k / 5)}`;
    const now = Date.now();
    const ts = lifecycle && k % 5 === 0 ? now - 20 * DAY : now;
    const events = Array.from({ length: n }, (_, i) => {
      const id = `${tag}-${k}-${i}`;
      if (!lifecycle)
        return i % 3 === 2
          ? { id, type: 'event', ts: ts + i, name: 'add_to_cart', props: { sku: `p${k % 50}` } }
          : { id, type: 'page', ts: ts + i, url: `https://shop.test/products/p${(k + i) % 50}`, title: 'Product' };
      return (k * n + i) % 3 === 2
        ? {
            id,
            type: 'event',
            ts: ts + i,
            name: RULE_EVENTS[(k + i) % RULE_EVENTS.length],
            value: (k * 7 + i) % 200,
            props: { sku: `p${k % 50}`, ...(k % 17 === 0 ? { test: true } : {}) },
          }
        : { id, type: 'page', ts: ts + i, url: `https://shop.test/products/p${(k + i) % 50}`, title: 'Product' };
    });
    return JSON.stringify({ site: 'demo', visitor, sent: now, events });
  };
};

export interface CannonOptions {
  url: string;
  events: number;
  seconds: number;
  connections?: number;
  /** Requests per second in total (autocannon's overallRate); unlimited when absent. */
  rate?: number;
  /** Spread clients over many addresses: X-Forwarded-For (the Node collector with CJM_TRUST_PROXY=1) and
   * CF-Connecting-IP (the Worker, which reads the client address from it). */
  forwardedFor?: boolean;
  /** Called with the latency (ms) of every response. */
  onResponse?: (ms: number) => void;
  /** The traffic of `bodyFactory(n, true)`: for comparing stage models with rules beyond names. */
  lifecycle?: boolean;
}

/** Runs autocannon and returns requests/s (2xx only) and latency percentiles in ms. */
export const cannon = async (o: CannonOptions): Promise<CannonResult & { raw: autocannon.Result }> => {
  const body = bodyFactory(o.events, o.lifecycle);
  let n = 0;
  const instance = autocannon({
    url: `${o.url}/collect`,
    connections: o.connections ?? 10,
    duration: o.seconds,
    ...(o.rate ? { overallRate: o.rate } : {}),
    requests: [
      {
        method: 'POST',
        setupRequest: (req: autocannon.Request) => {
          const headers: Record<string, string> = { 'content-type': 'text/plain', 'user-agent': UA };
          if (o.forwardedFor) {
            const address = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
            headers['x-forwarded-for'] = address;
            headers['cf-connecting-ip'] = address;
          }
          n = (n + 1) % 20_000;
          return { ...req, headers, body: body() };
        },
      },
    ],
  });
  const onResponse = o.onResponse;
  if (onResponse) instance.on('response', (_c, _status, _bytes, ms) => onResponse(ms));
  const raw = await instance;
  return {
    rps: raw['2xx'] / o.seconds,
    p50: raw.latency.p50,
    p99: raw.latency.p99,
    requests: raw.requests.total,
    non2xx: raw.non2xx,
    errors: raw.errors + raw.timeouts,
    raw,
  };
};

/** A bare node:http server in a child process: reads the body, answers 204. The baseline for ingest figures. */
export const startBareServer = (): Promise<{ url: string; stop: () => Promise<void> }> =>
  new Promise((ok, fail) => {
    const src = `require('http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(204); s.end(); }); })
      .listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });`;
    const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.stdout!.once('data', (d: Buffer) => {
      const m = /listening on (\S+)/.exec(d.toString());
      if (!m) return fail(new Error(`[cjm bench] bare server: ${d}`));
      ok({
        url: m[1]!,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('error', fail);
  });
