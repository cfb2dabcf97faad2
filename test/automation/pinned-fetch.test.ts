/**
 * The Node webhook fetch connects to the checked address it is given, not to whatever the hostname resolves to
 * now (DNS rebinding), and keeps the hostname in the Host header; status, headers, body, timeout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinnedFetch } from '../../collector/webhook-fetch';

let port: number;
const seen: Array<{ host?: string; body: string; sig?: string }> = [];
/** Answers of /slow, held until the end of the file: the client can only stop waiting by its own timeout. */
const held: Array<() => void> = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    seen.push({ host: req.headers.host, body, sig: req.headers['x-cjm-signature'] as string | undefined });
    if (req.url === '/slow') return void held.push(() => res.end('late'));
    if (req.url === '/empty') return void res.writeHead(204).end();
    res.writeHead(201, { 'X-Answer': 'yes' }).end('created');
  });
});
beforeAll(async () => {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const answer of held) answer();
  await new Promise<void>((ok) => server.close(() => ok()));
});

describe('pinnedFetch', () => {
  it('connects to the pinned address whatever the name resolves to, with the name as Host', async () => {
    // "pinned.invalid" never resolves (RFC 2606): the request can only succeed by connecting to the pinned address.
    const res = await pinnedFetch(
      `http://pinned.invalid:${port}/hook`,
      { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Cjm-Signature': 'v1=ab' }, body: '{"a":1}' },
      { addresses: ['127.0.0.1'] },
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('x-answer')).toBe('yes');
    expect(await res.text()).toBe('created');
    expect(seen.at(-1)).toEqual({ host: `pinned.invalid:${port}`, body: '{"a":1}', sig: 'v1=ab' });
  });

  it('without a pin it is the global fetch (which resolves the name itself)', async () => {
    await expect(pinnedFetch(`http://pinned.invalid:${port}/hook`, { method: 'POST', body: 'x' })).rejects.toThrow();
    expect((await pinnedFetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: 'x' })).status).toBe(201);
  });

  it('answers 204 without a body, and aborts on timeout', async () => {
    const empty = await pinnedFetch(
      `http://x.invalid:${port}/empty`,
      { method: 'POST', body: '' },
      { addresses: ['127.0.0.1'] },
    );
    expect(empty.status).toBe(204);
    const started = Date.now();
    const err = await pinnedFetch(
      `http://x.invalid:${port}/slow`,
      { method: 'POST', body: '', signal: AbortSignal.timeout(100) },
      { addresses: ['127.0.0.1'] },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toMatch(/AbortError|TimeoutError/);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
