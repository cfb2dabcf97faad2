/**
 * Formatting and HTML helpers of the dashboard. Markup is hono/jsx (pages, layout, charts), which escapes every string
 * it is given, in text and in attributes; `h` (hono/html's `html` tagged template, escaping the same way) remains for
 * the routes' short fragments. Nothing here concatenates raw values into markup.
 */
import { html } from 'hono/html';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { Channel } from '../channels';
import { localDay, offsetMs } from '../timezone';

/** A rendered fragment: a hono/jsx element, or a fragment of `h`. */
export type Html = JSX.Element;

/** hono/html's `html`, typed as synchronous (the dashboard never interpolates promises). */
export const h = (strings: TemplateStringsArray, ...values: unknown[]) => html(strings, ...values) as Html;

/** The empty fragment. */
export const nothing: Html = h``;

const nf = new Intl.NumberFormat('en-US');
export const num = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : nf.format(Math.round(n));

export const pct = (part: number, whole: number, digits = 1): string =>
  whole > 0 ? `${((100 * part) / whole).toFixed(digits).replace(/\.0+$/, '')}%` : '–';

/** 950 ms, 12 s, 4 min, 3.2 h, 2.1 d. */
export const duration = (ms: number | null | undefined): string => {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60_000) return `${Math.round(ms / 1000)} s`;
  if (a < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (a < 86_400_000) return `${(ms / 3_600_000).toFixed(1).replace(/\.0$/, '')} h`;
  return `${(ms / 86_400_000).toFixed(1).replace(/\.0$/, '')} d`;
};

const pad = (n: number) => String(n).padStart(2, '0');
/**
 * `2026-11-23 14:05` in the zone `tz` (a site's `timezone`; UTC for what belongs to no site): the page says which
 * zone once.
 */
export const dateTime = (ms: number, tz = 'UTC'): string => {
  const d = new Date(ms + offsetMs(ms, tz));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
};
/** `14:05:09` in the zone `tz`. */
export const time = (ms: number, tz = 'UTC'): string => {
  const d = new Date(ms + offsetMs(ms, tz));
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};
/** The day (`2026-11-23`) of `ms` in the zone `tz`. */
export const day = (ms: number, tz = 'UTC'): string => localDay(ms, tz);

/** "3 min ago", relative to `now`. */
export const ago = (ms: number, now: number): string => {
  const d = now - ms;
  if (d < 60_000) return 'just now';
  return `${duration(d)} ago`;
};

/** A URL from a browser: always shown as text; linked only when it is http(s), and then with rel=noreferrer. */
export const urlText = (url: string | null | undefined, max = 90): Html =>
  url ? <UrlText url={url} max={max} /> : nothing;

const UrlText = ({ url, max }: { url: string; max: number }) => {
  const shown = url.length > max ? `${url.slice(0, max - 1)}…` : url;
  let safe: boolean;
  try {
    const u = new URL(url);
    safe = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    safe = false;
  }
  return safe ? (
    <a class="url" href={url} rel="noreferrer noopener" target="_blank" title={url}>
      {shown}
    </a>
  ) : (
    <span class="url" title={url}>
      {shown}
    </span>
  );
};

/** The path and query of a URL, for compact lists; the raw string when it does not parse. */
export const pathOf = (url: string | null | undefined): string => {
  if (!url) return '';
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
};

/** Builds a query string from defined values (for links that keep the current filters). */
export const qs = (params: Record<string, string | number | boolean | null | undefined>): string => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

/**
 * Every channel of the model (channels.ts, docs/channels.md) as people read it; typed by `Channel`, so a channel
 * added to the model does not compile without its label.
 */
export const CHANNEL_LABELS: Readonly<Record<Channel, string>> = {
  direct: 'Direct',
  organic_search: 'Organic search',
  paid_search: 'Paid search',
  maps: 'Maps',
  social: 'Social',
  paid_social: 'Paid social',
  forum: 'Forums',
  email: 'Email',
  sms: 'SMS',
  push: 'Push',
  referral: 'Referral',
  display: 'Display',
  retargeting: 'Retargeting',
  affiliate: 'Affiliate',
  offline: 'Offline',
  other: 'Other',
};

/** A channel as people read it; a name outside the model (an older database) spelled out from its id. */
export const channelLabel = (c: string | null | undefined): string => {
  if (!c) return '–';
  if (Object.hasOwn(CHANNEL_LABELS, c)) return CHANNEL_LABELS[c as Channel];
  return c.replace(/_/g, ' ').replace(/^./, (m) => m.toUpperCase());
};
