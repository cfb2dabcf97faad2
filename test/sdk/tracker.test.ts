// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, expectTypeOf, test, vi } from 'vitest';
import { LIMITS, type Props as WireProps, type WireBatch, type WireEvent } from '../../collector/core/protocol';
import { createTracker, init, type Options, type Props, type Tracker } from '../../sdk/index';
import { fakeNet, setHidden, site, storedOutbox } from './helpers';

beforeEach(() => {
  localStorage.clear();
  history.replaceState(null, '', '/');
  setHidden(false);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  setHidden(false);
});

const referrer = (r: string) => Object.defineProperty(document, 'referrer', { configurable: true, get: () => r });

describe('public API', () => {
  test('types: Props is the wire Props; the tracker has the documented methods; init is createTracker', () => {
    expectTypeOf<Props>().toEqualTypeOf<WireProps>();
    expectTypeOf<Tracker['flush']>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<Tracker['visitorId']>().returns.toEqualTypeOf<string | undefined>();
    expectTypeOf<Options['storage']>().toEqualTypeOf<'local' | 'none' | undefined>();
    expect(init).toBe(createTracker);
  });

  test('payload: a WireBatch with site, visitor, sent, events with unique ids and creation ts', async () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
    const net = fakeNet();
    const s = site();
    const t = createTracker({ site: s, endpoint: 'https://c.test/collect', auto: false });
    t.track('signup', { plan: 'pro', seats: 3, trial: true, coupon: null }, 49);
    vi.setSystemTime(1_700_000_000_500);
    t.identify('user-1', { email_domain: 'example.com' });
    t.stage('checkout');
    t.feedback(4, 'fast');
    t.vital('LCP', 1234.5);
    await vi.advanceTimersByTimeAsync(1000);
    expect(net.calls).toHaveLength(1);
    const call = net.calls[0]!;
    expect(call.url).toBe('https://c.test/collect');
    const b: WireBatch = call.body;
    expect(Object.keys(b).sort()).toEqual(['events', 'sent', 'site', 'visitor']);
    expect(b.site).toBe(s);
    expect(b.visitor).toBe(t.visitorId());
    expect(b.sent).toBe(1_700_000_001_500);
    const strip = ({ id, ...e }: WireEvent) => (expect(id.length).toBeGreaterThanOrEqual(16), e);
    expect(b.events.map(strip)).toEqual([
      {
        type: 'event',
        ts: 1_700_000_000_000,
        name: 'signup',
        props: { plan: 'pro', seats: 3, trial: true, coupon: null },
        value: 49,
      },
      { type: 'identify', ts: 1_700_000_000_500, userId: 'user-1', props: { email_domain: 'example.com' } },
      { type: 'stage', ts: 1_700_000_000_500, stage: 'checkout' },
      { type: 'feedback', ts: 1_700_000_000_500, value: 4, props: { comment: 'fast' }, stage: 'checkout' },
      { type: 'vital', ts: 1_700_000_000_500, name: 'LCP', value: 1234.5, stage: 'checkout' },
    ]);
    expect(new Set(b.events.map((e) => e.id)).size).toBe(5);
  });

  test('page events: url with utm/click ids, title, external referrer on the first view only', async () => {
    const net = fakeNet();
    const s = site();
    referrer('https://www.google.com/');
    document.title = 'Landing';
    history.replaceState(null, '', '/l?utm_source=ads&fbclid=f1');
    const t = createTracker({ site: s, endpoint: '/c' });
    document.title = 'Cart';
    history.pushState(null, '', '/cart');
    await t.flush();
    const [p1, p2] = net.events(s);
    expect(p1).toMatchObject({
      type: 'page',
      url: location.origin + '/l?utm_source=ads&fbclid=f1',
      title: 'Landing',
      referrer: 'https://www.google.com/',
    });
    expect(p2).toMatchObject({ type: 'page', url: location.origin + '/cart', title: 'Cart' });
    expect(p2).not.toHaveProperty('referrer');
  });

  test('a URL or title longer than the collector accepts is cut, not refused', async () => {
    const net = fakeNet();
    const s = site();
    history.replaceState(null, '', '/p?x=' + 'a'.repeat(3000));
    document.title = 't'.repeat(800);
    const t = createTracker({ site: s, endpoint: '/c' });
    await t.flush();
    const [p] = net.events(s);
    expect(p!.url).toHaveLength(2000);
    expect(p!.url!.startsWith(location.origin + '/p?x=aaa')).toBe(true);
    expect(p!.title).toHaveLength(500);
    document.title = '';
  });

  test('the referrer is sent as it is, internal too (the collector tells them apart), and cut to its limit', async () => {
    const net = fakeNet();
    /** The first page view of a tracker started with document.referrer `r`. */
    const first = async (r: string) => {
      const s = site();
      referrer(r);
      await createTracker({ site: s, endpoint: '/c' }).flush();
      return net.events(s)[0]!;
    };
    // Internal: the collector's side is in test/core/channels.test.ts and test/collector/.
    const internal = await first(location.origin + '/previous');
    const long = 'https://news.example/a?q=' + 'x'.repeat(3000);
    const cut = await first(long);
    const none = await first('');
    expect(internal.referrer).toBe(location.origin + '/previous');
    // Longer than the collector accepts: cut, not refused (a refused first page view would be dropped).
    expect(cut.referrer).toBe(long.slice(0, LIMITS.urlLength));
    expect(cut.referrer).toHaveLength(2000);
    expect(none).not.toHaveProperty('referrer');
  });

  test('an event the collector refuses (feedback 6) costs only itself: dropped and counted', async () => {
    const net = fakeNet();
    // The collector's rule: feedback.value must be an integer 1–5 (400 naming the field otherwise).
    net.answer = (c) =>
      c.body.events.some((e) => e.type == 'feedback' && !(e.value! >= 1 && e.value! <= 5)) ? 400 : 202;
    const s = site();
    const t = createTracker({ site: s, endpoint: '/c', auto: false });
    t.track('a');
    t.feedback(6);
    t.feedback(5);
    t.track('b');
    await t.flush();
    const ok = net.batches(s).filter((c) => !c.body.events.some((e) => e.value == 6));
    expect(ok.flatMap((c) => c.body.events).map((e) => e.name ?? e.value)).toEqual(['a', 5, 'b']);
    expect(
      net
        .batches(s)
        .map((c) => c.body.dropped)
        .filter(Boolean),
    ).toEqual([1]);
    expect(net.events(s).find((e) => e.value == 5)!.props).toEqual({}); // no comment
  });

  test('no exception escapes a public method', async () => {
    fakeNet();
    const t = createTracker({ site: site(), endpoint: '/c', auto: false });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => t.track('x', circular as Props)).not.toThrow();
    expect(() => t.track('x', { big: 10n } as unknown as Props)).not.toThrow();
    expect(() => (t.identify as (...a: unknown[]) => void)(undefined, 5)).not.toThrow();
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new Error('boom');
    });
    expect(() => t.track('y')).not.toThrow();
    await expect(t.flush()).resolves.toBeUndefined();
  });

  test('writes nothing to the console, whatever fails', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m));
    const net = fakeNet();
    net.answer = () => new TypeError('Failed to fetch');
    Object.defineProperty(navigator, 'sendBeacon', { value: undefined, configurable: true, writable: true });
    const t = createTracker({ site: site(), endpoint: '/c', markup: true });
    t.track('x');
    document.body.innerHTML = '<i data-cjm-event="e"></i>';
    document.querySelector('i')!.click();
    document.dispatchEvent(new MouseEvent('click', { bubbles: true })); // target: the document itself
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    await t.flush();
    net.answer = () => 500;
    await t.flush();
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    spies.forEach((s) => s.mockRestore());
    document.body.innerHTML = '';
  });

  test('batches: one request for events close together, sent about flushInterval after the first', async () => {
    vi.useFakeTimers();
    const net = fakeNet();
    const s = site();
    createTracker({ site: s, endpoint: '/c', flushInterval: 200 });
    await vi.advanceTimersByTimeAsync(199);
    expect(net.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(net.batches(s)).toHaveLength(1);
  });
});

describe('delivery', () => {
  test('hidden: everything goes by sendBeacon at once, and stays in the outbox until a confirmed send', async () => {
    vi.useFakeTimers();
    const net = fakeNet();
    const s = site();
    const t = createTracker({ site: s, endpoint: '/c' });
    t.track('a');
    setHidden(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(net.batches(s).map((c) => c.beacon)).toEqual([true]);
    expect(net.events(s).map((e) => e.type)).toEqual(['page', 'event']);
    // A beacon's true only means "queued by the browser": the events stay until the collector confirms them,
    // and they are held briefly, so the pagehide that follows visibilitychange does not beacon them again.
    const stored = () => storedOutbox('cjm.o.' + s).q;
    expect(stored()).toHaveLength(2);
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    await vi.advanceTimersByTimeAsync(0);
    expect(net.batches(s)).toHaveLength(1);
    // The retry sends the same ids again by fetch; the 2xx answer confirms them and only then they leave.
    await vi.advanceTimersByTimeAsync(2000);
    const [beacon, confirm] = net.batches(s);
    expect(confirm?.beacon).toBe(false);
    expect(confirm?.body.events.map((e) => e.id)).toEqual(beacon?.body.events.map((e) => e.id));
    expect(stored()).toEqual([]);
    // An event while hidden (e.g. a vital reported on hide) is sent at once too.
    t.vital('CLS', 0.01);
    await vi.advanceTimersByTimeAsync(0);
    expect(net.batches(s).map((c) => c.beacon)).toEqual([true, false, true]);
  });

  test('a beacon that the collector never stored is sent again by the next page (nothing lost)', async () => {
    vi.useFakeTimers();
    const s = site();
    const first = fakeNet();
    createTracker({ site: s, endpoint: '/c' }).track('left-in-a-hurry');
    window.dispatchEvent(new PageTransitionEvent('pagehide')); // the beacon is lost on the way
    await vi.advanceTimersByTimeAsync(0);
    const lost = first.events(s).map((e) => e.id);
    expect(lost).toHaveLength(2);
    // Next page load: the outbox still holds them and the first flush sends them, confirmed.
    vi.unstubAllGlobals();
    const next = fakeNet();
    createTracker({ site: s, endpoint: '/c', auto: false });
    await vi.advanceTimersByTimeAsync(1500);
    expect(next.batches(s)[0]?.beacon).toBe(false);
    expect(next.events(s).map((e) => e.id)).toEqual(lost);
    expect(storedOutbox('cjm.o.' + s).q).toEqual([]);
  });

  test('pagehide flushes by sendBeacon (and never listens to unload/beforeunload)', async () => {
    const add = vi.spyOn(window, 'addEventListener');
    const net = fakeNet();
    const s = site();
    createTracker({ site: s, endpoint: '/c' });
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    await Promise.resolve();
    expect(net.batches(s).map((c) => c.beacon)).toEqual([true]);
    const types = add.mock.calls.map((c) => c[0]);
    expect(types).not.toContain('unload');
    expect(types).not.toContain('beforeunload');
    add.mockRestore();
  });

  test('sendBeacon refusing (false) falls back to fetch keepalive', async () => {
    const net = fakeNet();
    net.beaconResult = false;
    const s = site();
    createTracker({ site: s, endpoint: '/c' });
    window.dispatchEvent(new PageTransitionEvent('pagehide'));
    await vi.waitFor(() => expect(net.batches(s)).toHaveLength(1));
    expect(net.batches(s).map((c) => [c.beacon, c.init?.keepalive])).toEqual([[false, true]]);
  });

  test('offline: retried with backoff, and at once on `online`', async () => {
    vi.useFakeTimers();
    const net = fakeNet();
    net.answer = () => new TypeError('Failed to fetch');
    const s = site();
    const t = createTracker({ site: s, endpoint: '/c' });
    await t.flush();
    await t.flush(); // nothing more
    const tries = net.batches(s).length;
    net.answer = () => 202;
    window.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    expect(net.batches(s).length).toBe(tries + 1);
    const ids = net.batches(s).map((c) => c.body.events[0]!.id);
    expect(new Set(ids).size).toBe(1); // the same page view every time
    expect(storedOutbox('cjm.o.' + s).q).toEqual([]);
  });
});

describe('markup (markup: true)', () => {
  test('data-cjm-event: one delegated listener, props from data-cjm-prop-*, no preventDefault', async () => {
    const net = fakeNet();
    const s = site();
    const t = createTracker({ site: s, endpoint: '/c', auto: false, markup: true });
    document.body.innerHTML = `
      <a href="#next" data-cjm-event="cta_click" data-cjm-prop-sku="x-1" data-cjm-prop-item-id="7" data-other="no">
        <span id="inner">Buy</span>
      </a>
      <button id="plain">no event</button>`;
    let defaultPrevented: boolean | undefined;
    document.addEventListener('click', (e) => (defaultPrevented = e.defaultPrevented));
    // An app handler stopping propagation does not hide the click from the tag (capture phase).
    document.getElementById('inner')!.addEventListener('click', (e) => e.stopPropagation());
    document.getElementById('inner')!.click();
    document.getElementById('plain')!.click();
    await t.flush();
    expect(net.events(s)).toMatchObject([{ type: 'event', name: 'cta_click', props: { sku: 'x-1', 'item-id': '7' } }]);
    expect(net.events(s)[0]!.props).not.toHaveProperty('other');
    expect(defaultPrevented).not.toBe(true);
  });

  test('data-cjm-stage marks the stage on page view', async () => {
    vi.useFakeTimers();
    const net = fakeNet();
    const s = site();
    document.body.innerHTML = '<main data-cjm-stage="checkout"></main>';
    const t = createTracker({ site: s, endpoint: '/c', markup: true });
    await vi.advanceTimersByTimeAsync(0);
    history.pushState(null, '', '/checkout/2'); // same stage: not again
    await vi.advanceTimersByTimeAsync(0);
    document.body.innerHTML = '<main data-cjm-stage="thanks"></main>';
    history.pushState(null, '', '/thanks');
    await vi.advanceTimersByTimeAsync(0);
    t.feedback(5);
    await t.flush();
    expect(net.events(s).map((e) => [e.type, e.stage])).toEqual([
      ['page', undefined],
      ['stage', 'checkout'],
      ['page', undefined],
      ['page', undefined],
      ['stage', 'thanks'],
      ['feedback', 'thanks'],
    ]);
    document.body.innerHTML = '';
  });

  test('data-cjm-stage: entered when the stage the markup names changes; a stage set by code does not count', async () => {
    vi.useFakeTimers();
    const net = fakeNet();
    const s = site();
    document.body.innerHTML = '<main data-cjm-stage="cart"></main>';
    const t = createTracker({ site: s, endpoint: '/c', markup: true });
    t.stage('payment');
    history.pushState(null, '', '/cart/2'); // the markup still says cart, as when last looked at
    await vi.advanceTimersByTimeAsync(0);
    document.body.innerHTML = '<main data-cjm-stage="checkout"></main>';
    history.replaceState(null, '', '/cart/2?step=2'); // not a URL change the tag counts: not looked at
    await vi.advanceTimersByTimeAsync(0);
    location.hash = '#step3'; // hash changes are looked at (without `hash`, not a page view)
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await vi.advanceTimersByTimeAsync(0);
    await t.flush();
    expect(net.events(s).map((e) => e.stage ?? e.type)).toEqual(['page', 'cart', 'payment', 'page', 'checkout']);
    document.body.innerHTML = '';
    history.replaceState(null, '', '/');
  });

  test('without markup: true, clicks on data-cjm-event and data-cjm-stage send nothing', async () => {
    vi.useFakeTimers();
    const net = fakeNet();
    const s = site();
    document.body.innerHTML = '<main data-cjm-stage="checkout"><button data-cjm-event="buy">Buy</button></main>';
    const t = createTracker({ site: s, endpoint: '/c' });
    document.querySelector('button')!.click();
    history.pushState(null, '', '/next');
    await vi.advanceTimersByTimeAsync(0);
    await t.flush();
    expect(net.events(s).map((e) => e.type)).toEqual(['page', 'page']);
    document.body.innerHTML = '';
  });
});
