/**
 * Automation on Workers: collector/worker.ts on a real local workerd with D1; the cron handler (triggered as the
 * cron trigger would) fires a due stall and delivers the signed webhooks with the Worker's fetch; a second run
 * sends nothing more.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../collector/core/automation/sign';
import { startWorker, type LocalWorker } from '../worker/start';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

let worker: LocalWorker;
const got: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
const hooks = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    got.push({ path: req.url ?? '', headers: req.headers, body });
    res.end('ok');
  });
});

beforeAll(async () => {
  await new Promise<void>((ok) => hooks.listen(0, '127.0.0.1', ok));
  worker = await startWorker({ adminToken: 'automation-worker-token-0123', assets: false });
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await new Promise<void>((ok) => hooks.close(() => ok()));
});

describe('automation on workerd + D1', () => {
  it('the cron handler fires the stall and delivers signed webhooks, once', async () => {
    const hookBase = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
    const api = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${worker.url}${path}`, {
        ...init,
        headers: { Authorization: 'Bearer automation-worker-token-0123', 'Content-Type': 'application/json' },
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const stall = {
      name: 'Cart',
      trigger: {
        type: 'stalled',
        stages: ['cart'],
        notReached: ['post-purchase'],
        after: '1s',
        emit: 'cart_abandoned',
      },
      action: { type: 'webhook', url: `${hookBase}/stall` },
    };
    expect((await api('/api/sites/demo/rules', { method: 'POST', body: JSON.stringify(stall) })).body.path).toBe(
      'action.url',
    );
    expect(
      (await api('/api/sites/demo/automation', { method: 'PUT', body: JSON.stringify({ allowPrivateWebhooks: true }) }))
        .status,
    ).toBe(200);
    expect((await api('/api/sites/demo/rules', { method: 'POST', body: JSON.stringify(stall) })).status).toBe(201);
    const entered = {
      name: 'Entered',
      trigger: { type: 'stage_entered', stage: 'cart' },
      action: { type: 'webhook', url: `${hookBase}/entered` },
    };
    expect((await api('/api/sites/demo/rules', { method: 'POST', body: JSON.stringify(entered) })).status).toBe(201);
    const secret = (await api('/api/sites/demo/webhook-secret')).body.secret as string;

    const now = Date.now();
    const collect = await fetch(`${worker.url}/collect`, {
      method: 'POST',
      headers: { 'User-Agent': UA },
      body: JSON.stringify({
        site: 'demo',
        visitor: 'wv',
        sent: now,
        events: [{ id: 'w1', type: 'page', ts: now, url: 'https://shop.test/cart.html' }],
      }),
    });
    expect(collect.status).toBe(202);

    // The cron trigger as it fires 10 s later (its scheduledTime is the Worker's clock): the 1 s stall is due.
    const later = now + 10_000;
    expect((await worker.scheduled(later)).status).toBe(200);
    expect(got.map((g) => g.path).sort()).toEqual(['/entered', '/stall']);
    for (const g of got) {
      expect(
        await verifySignature(
          secret,
          g.headers['x-cjm-signature'] as string,
          g.headers['x-cjm-timestamp'] as string,
          g.body,
        ),
      ).toBe(true);
    }
    const stallBody = JSON.parse(got.find((g) => g.path === '/stall')!.body);
    expect(stallBody.events[0]).toMatchObject({ name: 'cart_abandoned', synthetic: true });

    expect((await worker.scheduled(later)).status).toBe(200);
    expect(got).toHaveLength(2);
    const log = (await api('/api/sites/demo/deliveries')).body.deliveries as any[];
    expect(log.map((d) => d.status)).toEqual(['delivered', 'delivered']);
  }, 60_000);
});
