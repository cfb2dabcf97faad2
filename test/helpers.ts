/**
 * Test helpers: a fresh app on an in-memory SQLite store per test, and request shortcuts.
 */
import { createApp, type AppOptions } from '../collector/core/app';
import { ensureDemoSite } from '../collector/core/bootstrap';
import type { WireBatch, WireEvent } from '../collector/core/protocol';
import type { Store } from '../collector/core/store';
import { createSqliteStore, openSqlite } from '../collector/stores/sqlite';

export const TOKEN = 'test-admin-token';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  store: Store;
  /** Current time of the fake clock (ms); tests may move it. */
  clock: { now: number };
  collect: (body: unknown, init?: RequestInit) => Promise<Response>;
  api: (path: string, init?: RequestInit) => Promise<Response>;
}

export const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

export const makeApp = async (
  store: Store = createSqliteStore(openSqlite(':memory:')),
  /** More createApp options (e.g. `clientIp`, `rateLimit`). */
  extra: Partial<AppOptions> = {},
): Promise<TestApp> => {
  await ensureDemoSite(store);
  const clock = { now: T0 + 24 * 3600_000 };
  const app = createApp({
    getStore: () => store,
    getAdminToken: async () => TOKEN,
    asset: async () => null,
    now: () => clock.now,
    ...extra,
  });
  return {
    app,
    store,
    clock,
    collect: async (body, init = {}) =>
      app.request('/collect', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...init,
      }),
    api: async (path, init = {}) =>
      app.request(path, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) } }),
  };
};

let seq = 0;
/** An event with a fresh id; `ts` defaults to T0 + n seconds. */
export const ev = (type: WireEvent['type'], fields: Partial<WireEvent> = {}): WireEvent => {
  seq++;
  return { id: `e${seq.toString().padStart(6, '0')}`, type, ts: T0 + seq * 1000, ...fields };
};

export const page = (path: string, fields: Partial<WireEvent> = {}) =>
  ev('page', { url: `https://shop.test${path}`, ...fields });

export const batch = (visitor: string, events: WireEvent[], site = 'demo'): WireBatch => ({ site, visitor, events });

/** A deterministic shuffle (seeded LCG), so an order that breaks a test can be replayed. */
export const shuffled = <T>(xs: readonly T[], seed: number): T[] => {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};

/**
 * Cohort ranges over days from `d` (a UTC midnight): open, whole days, and ranges that cut days to the millisecond at
 * either end or fall inside one day — what the reports must answer exactly from rollups plus partial edge days.
 */
export const rangesCuttingDays = (d: number): Array<{ from?: number; to?: number }> => {
  const H = 3600_000;
  return [
    {},
    { from: d + 3 * H, to: d + 53 * H },
    { from: d + 24 * H, to: d + 72 * H - 1 },
    { from: d + 13 * H },
    { to: d + 30 * H },
    { from: d + 50 * H, to: d + 51 * H },
  ];
};

/**
 * Waits for a condition instead of a fixed time: polls `predicate` every `intervalMs` until it holds, and fails after
 * `timeoutMs` naming `what` it waited for (the deadline only bounds a broken run; a passing one never reaches it).
 *
 * @example
 * await waitFor(() => got.length === 1, { timeoutMs: 10_000, what: 'the webhook' })
 */
export const waitFor = async (
  predicate: () => boolean | Promise<boolean>,
  {
    timeoutMs = 10_000,
    intervalMs = 10,
    what = 'the condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() >= deadline) throw new Error(`[test] ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((poll) => setTimeout(poll, intervalMs));
  }
};
