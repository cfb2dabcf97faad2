/**
 * Node's fetch for webhooks, pinned to checked addresses: core/automation resolves the target's hostname and checks
 * every address (no private, loopback, link-local… targets); this fetch then connects to the first checked address
 * (node:http / node:https with a `lookup` that answers it), while the Host header, TLS SNI and the certificate check
 * still use the hostname. A DNS server that answers differently a moment later (DNS rebinding) cannot move the
 * request to an internal address. Without `pin` (literal addresses, or a site allowing private targets) it is the
 * global fetch.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import type { FetchLike } from './core/automation/deliver';

/**
 * @example
 * await pinnedFetch('https://hooks.example.com/x', { method: 'POST', body: '{}' }, { addresses: ['93.184.215.14'] })
 */
export const pinnedFetch: FetchLike = (input, init, pin) => {
  const address = pin?.addresses[0];
  if (address === undefined) return fetch(input, init);
  const url = new URL(input);
  const family = address.includes(':') ? 6 : 4;
  const lookup = ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  }) as unknown as LookupFunction;
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  return new Promise<Response>((ok, fail) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: init.method ?? 'GET', headers, lookup, signal: init.signal ?? undefined },
      (res) => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 0;
        const empty = status === 204 || status === 205 || status === 304;
        if (empty) res.resume();
        try {
          ok(
            new Response(empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), {
              status,
              headers: out,
            }),
          );
        } catch (e) {
          res.destroy();
          fail(e);
        }
      },
    );
    req.on('error', fail);
    req.end(typeof init.body === 'string' ? init.body : undefined);
  });
};
