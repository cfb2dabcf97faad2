/**
 * The collector's answer to one POST, as the outbox reads it: the fetch Response, or a stand-in without headers:
 * status 1 for a beacon (queued by the browser, so sent, but unconfirmed), 0 for a network error.
 */
export type Answer = Pick<Response, 'status'> & { headers?: Pick<Headers, 'get'> };

/**
 * One POST of a batch body. `sendBeacon` when the page is going away, else `fetch` with `keepalive` so the
 * answer can be read. A beacon's `true` only means the browser queued it, not that the collector stored it, so
 * it resolves to status 1 ("unconfirmed"): the events stay in the outbox and are sent again, confirmed, by the
 * next flush (the collector drops the repeat by id). Never throws and never rejects: a network error is status 0.
 */
export const post = async (url: string | URL, body: string, beacon?: boolean): Promise<Answer> => {
  try {
    // Missing sendBeacon, or false (not queued): fetch instead.
    if (beacon && navigator.sendBeacon?.(url, body)) return { status: 1 };
    return await fetch(url, {
      method: 'POST',
      keepalive: true,
      // A string body is sent as text/plain;charset=UTF-8, a "simple" content type: no CORS preflight.
      body,
    });
  } catch {
    return { status: 0 };
  }
};

/** What to do with a batch after an answer. */
export const SENT = 0;
export const RETRY = 1;
export const DROP = 2;
/** Refused for its content (400, 413, 422): one bad event must not cost the others, so halve the batch. */
export const SPLIT = 3;

/**
 * The retry table: 2xx sent; network error (0), an unconfirmed beacon (1), 408, 429 and 5xx retried with backoff;
 * 400, 413 and 422 split (a batch of one is dropped); every other answer (401, 403, 404, 410…) dropped. Dropped
 * events are counted in the next batch's `dropped`.
 */
export const verdict = (status: number): number => {
  if (status >= 200 && status < 300) return SENT;
  if (status < 2 || status == 408 || status == 429 || status >= 500) return RETRY;
  if (status == 400 || status == 413 || status == 422) return SPLIT;
  return DROP;
};
