/**
 * Every channel of the model in the dashboard: labelled (one label per channel, the new maps, forum and retargeting
 * included), offered and accepted by the visitors filter, and shown where the pages list channels — the journey
 * map's entry channels, the funnel's touches by first channel, the visitors list and the timeline's sessions.
 */
import { Window } from 'happy-dom';
import { beforeEach, describe, expect, it } from 'vitest';
import { CHANNELS } from '../../collector/core/channels';
import { CHANNEL_LABELS, channelLabel } from '../../collector/core/dashboard/format';
import { batch, ev, makeApp, page, TOKEN, type TestApp } from '../helpers';

let t: TestApp;
let cookie: string;

const parse = (html: string): Document => {
  const w = new Window({ url: 'http://localhost/' });
  w.document.write(html);
  return w.document as unknown as Document;
};
const get = async (path: string): Promise<Document> => {
  const res = await t.app.request(path, { headers: { Cookie: cookie } });
  expect(res.status, path).toBe(200);
  return parse(await res.text());
};
const text = (el: Element | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();

/** A visitor per new channel, each buying once. */
const ARRIVALS = [
  { visitor: 'from-maps', channel: 'maps', landing: { referrer: 'https://www.google.com/maps/place/Brew+Co' } },
  { visitor: 'from-forum', channel: 'forum', landing: { referrer: 'https://www.reddit.com/r/coffee/comments/1' } },
  { visitor: 'from-retargeting', channel: 'retargeting', path: '/?utm_source=criteo&utm_medium=retargeting' },
] as const;

beforeEach(async () => {
  t = await makeApp();
  const res = await t.app.request('/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost' },
    body: new URLSearchParams({ token: TOKEN, next: '/' }).toString(),
  });
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  for (const a of ARRIVALS) {
    const landing = 'path' in a ? page(a.path) : page('/', a.landing);
    const sent = await t.collect(batch(a.visitor, [landing, ev('event', { name: 'purchase', value: 30 })]));
    expect(sent.status).toBe(202);
  }
});

describe('channels in the dashboard', () => {
  it('labels every channel of the model, each differently', () => {
    expect(Object.keys(CHANNEL_LABELS)).toEqual([...CHANNELS]);
    expect(new Set(Object.values(CHANNEL_LABELS)).size).toBe(CHANNELS.length);
    expect([channelLabel('maps'), channelLabel('forum'), channelLabel('retargeting')]).toEqual([
      'Maps',
      'Forums',
      'Retargeting',
    ]);
    expect(channelLabel('some_old_channel')).toBe('Some old channel'); // stored by an older version
  });

  it('offers every channel in the visitors filter and filters by the new ones', async () => {
    const doc = await get('/sites/demo/visitors');
    const options = [...doc.querySelectorAll('select[name=channel] option')].map((o) => [
      o.getAttribute('value'),
      text(o),
    ]);
    expect(options).toEqual([['', 'any'], ...CHANNELS.map((c) => [c, CHANNEL_LABELS[c]])]);
    for (const a of ARRIVALS) {
      const list = await get(`/sites/demo/visitors?channel=${a.channel}`);
      const rows = [...list.querySelectorAll('[data-testid=visitors] tbody tr')];
      expect(rows.map((r) => text(r)).join('|'), a.channel).toContain(a.visitor);
      expect(rows, a.channel).toHaveLength(1);
      expect(text(rows[0]), a.channel).toContain(CHANNEL_LABELS[a.channel]);
    }
  });

  it('shows them on the journey map, the funnel and the timeline', async () => {
    const map = await get('/sites/demo/map');
    const entry = text(map.querySelector('[data-testid=journey-map]'));
    for (const a of ARRIVALS) expect(entry).toContain(CHANNEL_LABELS[a.channel]);

    const funnel = await get('/sites/demo/funnel');
    const rows = [...funnel.querySelectorAll('[data-testid=touches-by-channel] tbody tr')];
    expect(rows.map((r) => r.getAttribute('data-channel')).sort()).toEqual(['forum', 'maps', 'retargeting']);
    for (const r of rows) expect(text(r.querySelector('th'))).toBe(channelLabel(r.getAttribute('data-channel')));

    for (const a of ARRIVALS) {
      const timeline = await get(`/sites/demo/visitors/${a.visitor}`);
      expect(text(timeline.querySelector('[data-testid=timeline] .badge.accent'))).toBe(CHANNEL_LABELS[a.channel]);
    }
  });
});
