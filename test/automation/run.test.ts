/**
 * The periodic pass as a whole: a delivery queued before a restart of the collector is sent by the new process
 * (the queue is in the SQLite file); the timer starts with start() and stops with close() (on an injected scheduler,
 * so no test waits for it); the retention prunes the log and retired stalls; a backlog drains within the time budget.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAutomation } from '../../collector/core/automation/run';
import { start } from '../../collector/node';
import { waitFor } from '../helpers';
import { BASE, DAY, MIN, manualScheduler, newStore, pageAt, rule, send } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'cjm-automation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

describe('restart', () => {
  it('a delivery queued by one process is sent by the next', async () => {
    const got: string[] = [];
    const hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((ok) => hooks.listen(0, '127.0.0.1', ok));
    const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
    const db = join(dir, 'restart.db');

    // First process: automation off (as if it crashed before its timer ran); the rule fires at ingest.
    const first = await start({ port: 0, db, adminToken: 'run-test-token-0123456789', automation: false });
    const api = (base: string, path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, {
        ...init,
        headers: { Authorization: 'Bearer run-test-token-0123456789', 'Content-Type': 'application/json' },
      });
    expect(
      (
        await api(first.url, '/api/sites/demo/automation', {
          method: 'PUT',
          body: JSON.stringify({ allowPrivateWebhooks: true }),
        })
      ).status,
    ).toBe(200);
    const created = await api(first.url, '/api/sites/demo/rules', {
      method: 'POST',
      body: JSON.stringify({
        name: 'Cart',
        trigger: { type: 'stage_entered', stage: 'cart' },
        action: { type: 'webhook', url: hookUrl },
      }),
    });
    expect(created.status).toBe(201);
    const res = await fetch(`${first.url}/collect`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
      body: JSON.stringify({
        site: 'demo',
        visitor: 'r1',
        sent: Date.now(),
        events: [{ id: 'r1-1', type: 'page', ts: Date.now(), url: 'http://shop.test/cart.html' }],
      }),
    });
    expect(res.status).toBe(202);
    // Queued, and not sent: no pass runs in this process.
    const queued = (await (await api(first.url, '/api/sites/demo/deliveries')).json()) as {
      deliveries: Array<{ status: string; attempts: number }>;
    };
    expect(queued.deliveries).toMatchObject([{ status: 'pending', attempts: 0 }]);
    expect(got).toHaveLength(0);
    await first.close();

    // Second process on the same file, its loop on a manual scheduler: the first pass picks the delivery up.
    const scheduler = manualScheduler(Date.now());
    let passes = 0;
    const second = await start({
      port: 0,
      db,
      adminToken: 'run-test-token-0123456789',
      automation: { intervalMs: 100, scheduler, onPass: () => passes++ },
    });
    try {
      expect(scheduler.pending()).toBe(1); // start() set the loop's timer
      scheduler.advance(100);
      await waitFor(() => passes === 1, { what: 'the first pass' });
      expect(got).toHaveLength(1);
      expect(JSON.parse(got[0]!)).toMatchObject({
        site: 'demo',
        visitor: { id: 'r1' },
        journey: { currentStage: 'cart' },
      });
      const log = (await (await api(second.url, '/api/sites/demo/deliveries')).json()) as {
        deliveries: Array<{ status: string }>;
      };
      expect(log.deliveries.map((d) => d.status)).toEqual(['delivered']);
    } finally {
      await second.close();
      await new Promise<void>((ok) => hooks.close(() => ok()));
    }
    // close() stopped the timer: nothing runs against the closed database (no error, no late request).
    expect(scheduler.pending()).toBe(0);
    scheduler.advance(DAY);
    expect(passes).toBe(1);
    expect(got).toHaveLength(1);
  });
});

describe('retention', () => {
  it('prunes finished deliveries with their attempts, and retired stalls, after the retention period', async () => {
    const store = await newStore();
    await store.putRule(rule({ type: 'stage_entered', stage: 'cart' }, { id: 'r_c' }));
    await store.putRule(
      rule(
        { type: 'stalled', stages: ['cart'], notReached: ['post-purchase'], after: '30m', emit: 'cart_abandoned' },
        { id: 'r_s' },
      ),
    );
    await send(store, 'p1', [pageAt('/cart.html', BASE)]);
    await send(store, 'p2', [pageAt('/cart.html', BASE + 1000)]);
    const clock = { now: BASE + 31 * MIN };
    const o = {
      store,
      now: () => clock.now,
      fetch: async () => new Response('ok'),
      resolve: async () => ['93.184.215.14'],
    };
    const r1 = await runAutomation(o);
    expect(r1.stalls.fired).toBe(2);
    expect(r1.deliveries.delivered).toBe(4);
    expect(r1.pruned).toEqual({ deliveries: 0, stalls: 0 });
    expect(await store.listDeliveries('demo', { limit: 10 })).toHaveLength(4);

    clock.now += 29 * DAY;
    expect((await runAutomation(o)).pruned).toEqual({ deliveries: 0, stalls: 0 });
    clock.now += 2 * DAY;
    const r3 = await runAutomation({ ...o, retentionMs: 30 * DAY });
    expect(r3.pruned).toEqual({ deliveries: 4, stalls: 2 });
    expect(await store.listDeliveries('demo', { limit: 10 })).toEqual([]);
    expect((await runAutomation(o)).pruned).toEqual({ deliveries: 0, stalls: 0 });
  });
});

describe('backlog', () => {
  it('a pass drains more than one round while it finds full batches, within its time budget', async () => {
    const store = await newStore();
    await store.putRule(rule({ type: 'stage_entered', stage: 'cart' }));
    for (let v = 0; v < 45; v++) await send(store, `bl${v}`, [pageAt('/cart.html', BASE + v)]);
    let sent = 0;
    const o = {
      store,
      now: () => BASE + MIN,
      fetch: async () => (sent++, new Response('ok')),
      resolve: async () => ['93.184.215.14'],
    };
    expect((await runAutomation({ ...o, limit: 10, budgetMs: 0 })).deliveries.delivered).toBe(10); // one round
    expect((await runAutomation({ ...o, limit: 10 })).deliveries.delivered).toBe(35); // rounds until a partial batch
    expect(sent).toBe(45);
  });

  it('measures its time budget on the injected wall clock, not on the clock of due times', async () => {
    const store = await newStore();
    await store.putRule(rule({ type: 'stage_entered', stage: 'cart' }));
    for (let v = 0; v < 45; v++) await send(store, `bw${v}`, [pageAt('/cart.html', BASE + v)]);
    // Each reading of the wall clock is 3 s later: round 1 ends at 3 s (< 5 s, go on), round 2 at 6 s (stop).
    let wall = 0;
    const scheduler = { now: () => (wall += 3000) - 3000, after: () => () => {} };
    const r = await runAutomation({
      store,
      now: () => BASE + MIN,
      fetch: async () => new Response('ok'),
      resolve: async () => ['93.184.215.14'],
      limit: 10,
      budgetMs: 5000,
      scheduler,
    });
    expect(r.deliveries.delivered).toBe(20);
  });
});
