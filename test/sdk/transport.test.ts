// @vitest-environment happy-dom
import { afterEach, describe, expect, test, vi } from 'vitest';
import { DROP, RETRY, SENT, SPLIT, post, verdict } from '../../sdk/transport';
import { fakeNet } from './helpers';

const URL = 'https://collector.test/collect';
const BODY = '{"site":"s","events":[]}';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('post', () => {
  test('beacon: sendBeacon true means queued by the browser, not stored: status 1, unconfirmed; fetch is not used', async () => {
    const net = fakeNet();
    await expect(post(URL, BODY, true)).resolves.toEqual({ status: 1 });
    expect(net.sendBeacon).toHaveBeenCalledWith(URL, BODY);
    expect(net.fetch).not.toHaveBeenCalled();
  });

  test('beacon: sendBeacon false falls back to fetch keepalive', async () => {
    const net = fakeNet();
    net.beaconResult = false;
    expect((await post(URL, BODY, true)).status).toBe(202);
    expect(net.fetch).toHaveBeenCalledTimes(1);
  });

  test('beacon: no sendBeacon at all falls back to fetch keepalive', async () => {
    const net = fakeNet();
    Object.defineProperty(navigator, 'sendBeacon', { value: undefined, configurable: true, writable: true });
    expect((await post(URL, BODY, true)).status).toBe(202);
    expect(net.fetch).toHaveBeenCalledTimes(1);
  });

  test('otherwise fetch: POST, keepalive, text/plain (no CORS preflight), the body as is', async () => {
    const net = fakeNet();
    await post(URL, BODY);
    expect(net.sendBeacon).not.toHaveBeenCalled();
    const [url, init] = net.fetch.mock.calls[0]!;
    expect(url).toBe(URL);
    // No content-type header: a string body goes as text/plain;charset=UTF-8, a CORS-safelisted type (no preflight).
    expect(init).toEqual({ method: 'POST', keepalive: true, body: BODY });
    expect(typeof init.body).toBe('string');
  });

  test('answers with the response: its status and Retry-After (the outbox reads seconds; a date means backoff)', async () => {
    const net = fakeNet();
    net.answer = () => [429, '7'];
    const limited = await post(URL, BODY);
    expect(limited.status).toBe(429);
    expect(limited.headers?.get('retry-after')).toBe('7');
    net.answer = () => [503, 'Wed, 21 Oct 2015 07:28:00 GMT'];
    const down = await post(URL, BODY);
    expect(down.status).toBe(503);
    expect(Number(down.headers?.get('retry-after'))).toBeNaN();
    net.answer = () => 500;
    expect(Number((await post(URL, BODY)).headers?.get('retry-after'))).toBe(0); // absent
  });

  test('never throws or rejects: network error, fetch throwing, no fetch, sendBeacon throwing', async () => {
    const net = fakeNet();
    net.answer = () => new TypeError('Failed to fetch');
    await expect(post(URL, BODY)).resolves.toEqual({ status: 0 });
    vi.stubGlobal('fetch', () => {
      throw new TypeError('keepalive not supported');
    });
    await expect(post(URL, BODY)).resolves.toEqual({ status: 0 });
    vi.stubGlobal('fetch', undefined);
    await expect(post(URL, BODY)).resolves.toEqual({ status: 0 });
    Object.defineProperty(navigator, 'sendBeacon', {
      configurable: true,
      value: () => {
        throw new TypeError('Illegal invocation');
      },
    });
    await expect(post(URL, BODY, true)).resolves.toEqual({ status: 0 });
  });
});

describe('verdict: the retry table', () => {
  test.each([200, 201, 202, 204, 299])('%i → sent', (s) => expect(verdict(s)).toBe(SENT));
  test.each([0, 1, 408, 429, 500, 502, 503, 504, 599])('%i → retry', (s) => expect(verdict(s)).toBe(RETRY));
  test.each([400, 413, 422])('%i → split (halve the batch; a batch of one is dropped and counted)', (s) =>
    expect(verdict(s)).toBe(SPLIT),
  );
  test.each([401, 403, 404, 410])('%i → drop (counted in dropped)', (s) => expect(verdict(s)).toBe(DROP));
  test.each([301, 405, 409, 415])('%i (not listed) → drop', (s) => expect(verdict(s)).toBe(DROP));
});
