// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { fakeNet, setPrivacy, site } from './helpers';

type Cjm = ((...a: unknown[]) => unknown) & Record<string, unknown> & { q?: unknown[] };
const w = window as unknown as { cjm?: Cjm };

/** The pre-load stub of docs/sdk.md, verbatim. */
const STUB = 'window.cjm=window.cjm||function(){(cjm.q=cjm.q||[]).push(arguments)}';

/** Puts a <script> with the given attributes in the page, as the one running (document.currentScript). */
const script = (attrs: Record<string, string>) => {
  const s = document.createElement('script');
  for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
  document.head.appendChild(s);
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => s });
  return s;
};

/** Runs sdk/tag.ts as a fresh copy of the script. */
const load = async () => {
  vi.resetModules();
  await import('../../sdk/tag');
};

// Scripts the tests put in the page are not fetched; say so quietly instead of logging an error.
const settings = (window as unknown as { happyDOM?: { settings: { handleDisabledFileLoadingAsSuccess: boolean } } })
  .happyDOM?.settings;
if (settings) settings.handleDisabledFileLoadingAsSuccess = true;

beforeEach(() => {
  delete w.cjm;
  localStorage.clear();
  setPrivacy();
  document.head.innerHTML = '';
  history.replaceState(null, '', '/');
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  setPrivacy();
});

describe('script tag', () => {
  test('replays the calls queued by the pre-load stub, in order, after the first page view', async () => {
    const net = fakeNet();
    const s = site();
    new Function(STUB)();
    w.cjm!('stage', 'checkout');
    w.cjm!('track', 'cart_abandoned', { sku: 'x' });
    w.cjm!('identify', 'u1');
    w.cjm!('no_such_command', 1); // ignored, not thrown
    script({ src: 'https://cdn.test/cjm.js', 'data-site': s });
    await load();
    // After loading, both call styles.
    w.cjm!('track', 'a');
    (w.cjm!.track as (n: string) => void)('b');
    await (w.cjm!.flush as () => Promise<void>)();
    expect(net.events(s).map((e) => e.name ?? e.stage ?? e.userId ?? e.type)).toEqual([
      'page',
      'checkout',
      'cart_abandoned',
      'u1',
      'a',
      'b',
    ]);
    expect(net.events(s)[2]!.props).toEqual({ sku: 'x' });
    expect(typeof w.cjm).toBe('function');
  });

  test('endpoint: <origin of src>/collect by default; data-api overrides', async () => {
    const net = fakeNet();
    const s1 = site();
    script({ src: 'https://cdn.test/assets/cjm.js?v=1', 'data-site': s1 });
    await load();
    await (w.cjm!.flush as () => Promise<void>)();
    expect(net.batches(s1)[0]!.url).toBe('https://cdn.test/collect');
    delete w.cjm;
    const s2 = site();
    script({ src: 'https://cdn.test/cjm.js', 'data-site': s2, 'data-api': 'https://api.test/in' });
    await load();
    await (w.cjm!.flush as () => Promise<void>)();
    expect(net.batches(s2)[0]!.url).toBe('https://api.test/in');
  });

  test('loaded twice: the second copy does nothing', async () => {
    const net = fakeNet();
    const s = site();
    script({ src: 'https://cdn.test/cjm.js', 'data-site': s });
    await load();
    const first = w.cjm;
    await load();
    expect(w.cjm).toBe(first);
    await (w.cjm!.flush as () => Promise<void>)();
    expect(net.events(s).filter((e) => e.type == 'page')).toHaveLength(1);
  });

  test('adds no global but cjm', async () => {
    fakeNet();
    const before = new Set(Object.getOwnPropertyNames(window));
    script({ src: 'https://cdn.test/cjm.js', 'data-site': site() });
    await load();
    const added = Object.getOwnPropertyNames(window).filter((k) => !before.has(k));
    expect(added).toEqual(['cjm']);
  });

  test('without data-site it does nothing', async () => {
    vi.useFakeTimers();
    const net = fakeNet();
    script({ src: 'https://cdn.test/cjm.js' });
    await load();
    expect(w.cjm).toBeUndefined();
    await vi.advanceTimersByTimeAsync(5000); // well past the batching delay
    expect(net.calls).toEqual([]);
  });

  test('data-vitals injects cjm.vitals.js from the same base URL', async () => {
    fakeNet();
    script({ src: 'https://cdn.test/v2/cjm.js', 'data-site': site(), 'data-vitals': '' });
    await load();
    const injected = [...document.querySelectorAll('script')].map((s) => s.src).filter((x) => x.includes('vitals'));
    expect(injected).toEqual(['https://cdn.test/v2/cjm.vitals.js']);
  });

  test('data-markup injects cjm.markup.js from the same base URL; with data-vitals, both', async () => {
    fakeNet();
    script({ src: 'https://cdn.test/v2/cjm.js?v=3', 'data-site': site(), 'data-markup': '' });
    await load();
    const injected = () => [...document.querySelectorAll('script')].map((s) => s.src).slice(1);
    expect(injected()).toEqual(['https://cdn.test/v2/cjm.markup.js']);
    delete w.cjm;
    document.head.innerHTML = '';
    script({ src: 'https://cdn.test/cjm.js', 'data-site': site(), 'data-markup': '', 'data-vitals': '' });
    await load();
    expect(injected().sort()).toEqual(['https://cdn.test/cjm.markup.js', 'https://cdn.test/cjm.vitals.js']);
  });

  test('no data-vitals, no data-markup: no chunk', async () => {
    fakeNet();
    script({ src: 'https://cdn.test/cjm.js', 'data-site': site() });
    await load();
    expect(document.querySelectorAll('script')).toHaveLength(1);
  });

  test('data-auto="false": no automatic page view', async () => {
    const net = fakeNet();
    const s = site();
    script({ src: 'https://cdn.test/cjm.js', 'data-site': s, 'data-auto': 'false' });
    await load();
    history.pushState(null, '', '/x');
    await (w.cjm!.flush as () => Promise<void>)();
    expect(net.events(s)).toEqual([]);
  });

  test('data-hash: hash routes are page views', async () => {
    const net = fakeNet();
    const s = site();
    script({ src: 'https://cdn.test/cjm.js', 'data-site': s, 'data-hash': '' });
    await load();
    location.hash = '#/cart';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await (w.cjm!.flush as () => Promise<void>)();
    expect(net.events(s).map((e) => new URL(e.url!).hash)).toEqual(['', '#/cart']);
    location.hash = '';
  });

  test('data-flush-interval (a testing knob): the batching delay in ms', async () => {
    vi.useFakeTimers();
    const net = fakeNet();
    const s = site();
    script({ src: 'https://cdn.test/cjm.js', 'data-site': s, 'data-flush-interval': '50' });
    await load();
    await vi.advanceTimersByTimeAsync(49);
    expect(net.batches(s)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(net.batches(s)).toHaveLength(1);
    vi.useRealTimers();
  });

  test('data-storage="none": nothing written to localStorage, no visitor sent', async () => {
    const net = fakeNet();
    const s = site();
    script({ src: 'https://cdn.test/cjm.js', 'data-site': s, 'data-storage': 'none' });
    await load();
    (w.cjm!.track as (n: string) => void)('x');
    await (w.cjm!.flush as () => Promise<void>)();
    expect(Object.keys(localStorage).filter((k) => k.endsWith(s))).toEqual([]);
    expect(localStorage.getItem('cjm.v')).toBeNull();
    expect(net.batches(s)[0]!.body).not.toHaveProperty('visitor');
    expect(net.events(s)).toHaveLength(2);
  });

  test('GPC honoured by default; data-respect-dnt="false" sends anyway', async () => {
    setPrivacy(true);
    const net = fakeNet();
    const s1 = site();
    script({ src: 'https://cdn.test/cjm.js', 'data-site': s1 });
    await load();
    await (w.cjm!.flush as () => Promise<void>)();
    expect(net.batches(s1)).toEqual([]);
    expect(localStorage.length).toBe(0);
    delete w.cjm;
    const s2 = site();
    script({ src: 'https://cdn.test/cjm.js', 'data-site': s2, 'data-respect-dnt': 'false' });
    await load();
    await (w.cjm!.flush as () => Promise<void>)();
    expect(net.events(s2)).toHaveLength(1);
  });
});
