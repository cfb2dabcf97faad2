// @vitest-environment happy-dom
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { createTracker } from '../../sdk/index';
import { navigation } from '../../sdk/navigation';
import { fakeNet, site } from './helpers';

beforeEach(() => {
  history.replaceState(null, '', '/start');
});

describe('navigation', () => {
  test('pushState: a page view when the path or query changes, not for the same URL', () => {
    const page = vi.fn();
    navigation(false, page);
    history.pushState(null, '', '/a');
    expect(page).toHaveBeenCalledTimes(1);
    history.pushState(null, '', '/a');
    expect(page).toHaveBeenCalledTimes(1);
    history.pushState(null, '', '/a?page=2');
    expect(page).toHaveBeenCalledTimes(2);
    history.pushState(null, '', '/a?page=2#section'); // hash ignored without hash routing
    expect(page).toHaveBeenCalledTimes(2);
  });

  test('replaceState: only when the path changes (query rewrites on boot are not page views)', () => {
    const page = vi.fn();
    navigation(false, page);
    history.replaceState(null, '', '/start?utm_source=x');
    history.replaceState({ s: 1 }, '', '/start');
    expect(page).not.toHaveBeenCalled();
    history.replaceState(null, '', '/other');
    expect(page).toHaveBeenCalledTimes(1);
  });

  test('popstate (back/forward)', () => {
    history.pushState(null, '', '/a');
    const page = vi.fn();
    navigation(false, page);
    history.replaceState(null, '', '/b'); // page view 1
    window.dispatchEvent(new PopStateEvent('popstate'));
    expect(page).toHaveBeenCalledTimes(1); // same URL: nothing
    history.replaceState = History.prototype.replaceState; // the URL changes under us, as on back
    History.prototype.replaceState.call(history, null, '', '/c');
    window.dispatchEvent(new PopStateEvent('popstate'));
    expect(page).toHaveBeenCalledTimes(2);
  });

  test('hash routing: hash changes are page views only with hash on', () => {
    const off = vi.fn(),
      on = vi.fn();
    navigation(false, off);
    navigation(true, on);
    location.hash = '#/cart';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    window.dispatchEvent(new PopStateEvent('popstate')); // browsers fire both: still one view
    expect(on).toHaveBeenCalledTimes(1);
    expect(off).not.toHaveBeenCalled();
  });

  test('keeps the return value and `this` of the patched methods, and their errors', () => {
    navigation(false, () => {});
    expect(history.pushState({ a: 1 }, '', '/x')).toBeUndefined();
    expect(history.state).toEqual({ a: 1 });
  });
});

describe('tracker page views', () => {
  test('the first page view exactly once, even when the app calls replaceState on boot', async () => {
    const net = fakeNet();
    const s = site();
    history.replaceState(null, '', '/landing?utm_source=news&gclid=abc');
    const t = createTracker({ site: s, endpoint: '/c' });
    history.replaceState({ app: 1 }, '', '/landing?utm_source=news&gclid=abc');
    history.replaceState({ app: 1 }, '', '/landing'); // strips the campaign
    await t.flush();
    const pages = net.events(s).filter((e) => e.type == 'page');
    expect(pages).toHaveLength(1);
    expect(pages[0]!.url).toBe(`${location.origin}/landing?utm_source=news&gclid=abc`);
    history.pushState(null, '', '/product/1');
    t.page(); // manual
    await t.flush();
    expect(
      net
        .events(s)
        .filter((e) => e.type == 'page')
        .map((e) => new URL(e.url!).pathname),
    ).toEqual(['/landing', '/product/1', '/product/1']);
  });

  test('auto: false sends no page view by itself', async () => {
    const net = fakeNet();
    const s = site();
    const t = createTracker({ site: s, endpoint: '/c', auto: false });
    history.pushState(null, '', '/elsewhere');
    await t.flush();
    expect(net.events(s)).toEqual([]);
  });
});
