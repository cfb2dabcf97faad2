/**
 * Webhook signatures: HMAC-SHA256 with the site's secret over `timestamp + "." + body`, hex-encoded, sent as
 * `X-Cjm-Signature: v1=<hex>` next to `X-Cjm-Timestamp: <unix seconds>`. Web Crypto only (Node and Workers).
 * Receivers verify with the snippets in docs/automation.md.
 */

const hex = (buf: ArrayBuffer): string =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

const keyOf = (secret: string, usage: 'sign' | 'verify') =>
  crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [usage]);

/**
 * The signature header value of a body sent at `timestamp` (unix seconds).
 *
 * @example
 * await signPayload('whsec_…', 1763892000, '{"rule":…}') // 'v1=5f3c…'
 */
export const signPayload = async (secret: string, timestamp: number, body: string): Promise<string> => {
  const mac = await crypto.subtle.sign(
    'HMAC',
    await keyOf(secret, 'sign'),
    new TextEncoder().encode(`${timestamp}.${body}`),
  );
  return `v1=${hex(mac)}`;
};

/**
 * Checks a signature header (constant time, by Web Crypto's verify) and the timestamp's age. The reference
 * implementation of the receiver side; docs/automation.md has the same logic as a copy-paste snippet.
 */
export const verifySignature = async (
  secret: string,
  header: string | null,
  timestamp: string | null,
  body: string,
  nowMs = Date.now(),
  toleranceSec = 300,
): Promise<boolean> => {
  if (!header || !timestamp || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSec) return false;
  const m = /^v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const mac = Uint8Array.from((m[1] as string).match(/../g) as string[], (h) => parseInt(h, 16));
  return crypto.subtle.verify(
    'HMAC',
    await keyOf(secret, 'verify'),
    mac,
    new TextEncoder().encode(`${timestamp}.${body}`),
  );
};

/** A new site secret: `whsec_` and 32 random bytes, hex. */
export const newSecret = (): string =>
  `whsec_${Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join('')}`;

/** A short deterministic id: the first 32 hex digits of SHA-256 over the parts. */
export const hashId = async (...parts: string[]): Promise<string> =>
  hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(parts.join('\u0000')))).slice(0, 32);
