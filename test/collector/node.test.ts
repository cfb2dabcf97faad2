/**
 * The Node entry over a real socket: the client address comes from the connection (getConnInfo), so the
 * no-visitor-id mode derives an id, and the maintenance timer stops with the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Running } from '../../collector/node';

let server: Running;
beforeAll(async () => {
  server = await start({ port: 0, db: ':memory:', adminToken: 'node-test-token-0123456789' });
});
afterAll(async () => {
  await server.close();
});

const UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

describe('collector on Node', () => {
  it('derives a visitor id from the socket address when the tag sends none, and never stores the address', async () => {
    const send = () =>
      fetch(`${server.url}/collect`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', 'User-Agent': UA },
        body: JSON.stringify({
          site: 'demo',
          events: [
            { id: `n${Math.random().toString(36).slice(2)}`, type: 'page', ts: Date.now(), url: 'https://shop.test/' },
          ],
        }),
      });
    expect((await send()).status).toBe(202);
    expect((await send()).status).toBe(202);
    const list = (await (
      await fetch(`${server.url}/api/sites/demo/visitors`, {
        headers: { Authorization: 'Bearer node-test-token-0123456789' },
      })
    ).json()) as {
      visitors: { visitor: string; device: string; touches: number }[];
    };
    expect(list.visitors).toHaveLength(1);
    expect(list.visitors[0]).toMatchObject({ device: 'desktop', touches: 2 });
    expect(list.visitors[0]!.visitor).toMatch(/^d:/);
    const rows = server.db.prepare('SELECT * FROM events').all();
    expect(JSON.stringify(rows)).not.toMatch(/127\.0\.0\.1|::1|Chrome\/131/);
  });
});
