/**
 * One POST of a batch body. `sendBeacon` when the page is going away, else `fetch` with `keepalive` so the
 * answer can be read. A beacon's `true` only means the browser queued it, not that the collector stored it, so
 * it resolves to status 1 ("unconfirmed"): the events stay in the outbox and are sent again, confirmed, by the
 * next flush (the collector drops the repeat by id). Never throws and never rejects: a network error is status 0.
 */
export const post = async (
  url: string,
  body: string,
  beacon?: unknown,
): Promise<[status: number, retryAfter: number]> => {
  try {
    // Missing sendBeacon, or false (not queued): fetch instead.
    if (beacon && navigator.sendBeacon?.(url, body)) return [1, 0];
    const r = await fetch(url, {
      method: 'POST',
      keepalive: true,
      // A string body is sent as text/plain;charset=UTF-8, a "simple" content type: no CORS preflight.
      body,
    });
    // NaN (absent, or an HTTP date) means: use the backoff.
    return [r.status, +r.headers.get('retry-after')!];
  } catch {
    return [0, 0];
  }
};

/** What to do with a batch after an answer. */
export const SENT = 0;
export const RETRY = 1;
export const DROP = 2;
/** Refused for its content (400, 413, 422): one bad event must not cost the others, so halve the batch. */
export const SPLIT = 3;

/**
 * The retry table: 2xx sent; network error (0), an unconfirmed beacon (1), 408, 429 and 5xx retried with backoff; 400, 413 and 422
 * split (a batch of one is dropped); every other answer (401, 403, 404, 410…) dropped. Dropped events are
 * counted in the next batch's `dropped`.
 */
export const verdict = (s: number): number =>
  s > 199 && s < 300
    ? SENT
    : s < 2 || s == 408 || s == 429 || s > 499
      ? RETRY
      : s == 400 || s == 413 || s == 422
        ? SPLIT
        : DROP;
