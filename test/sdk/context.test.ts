// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CONSENT, VISITOR, consent, dnt, store, uid, visitor } from '../../sdk/context';
import { createTracker } from '../../sdk/index';
import { fakeNet, setPrivacy, site, storedOutbox, throwingStorage } from './helpers';

beforeEach(() => {
  localStorage.clear();
  setPrivacy();
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  setPrivacy();
});

describe('store', () => {
  test('local: values go to localStorage', () => {
    const st = store(true);
    st._set('k', 'v');
    expect(localStorage.getItem('k')).toBe('v');
    localStorage.setItem('k', 'w'); // another tab
    expect(st._get('k')).toBe('w');
  });

  test('none: nothing touches localStorage', () => {
    const spy = vi.spyOn(Storage.prototype, 'setItem');
    const st = store(false);
    st._set('k', 'v');
    expect(st._get('k')).toBe('v');
    expect(localStorage.getItem('k')).toBeNull();
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  test('localStorage throwing: memory for the rest of the page', () => {
    throwingStorage();
    const st = store(true);
    expect(st._get('k')).toBeUndefined();
    st._set('k', 'v');
    expect(st._get('k')).toBe('v');
  });

  test("'' removes a key; keys are listed by prefix, sorted, in localStorage or in memory", () => {
    for (const local of [true, false]) {
      localStorage.clear();
      const st = store(local);
      for (const k of ['p/b', 'q/a', 'p/a', 'p/c']) st._set(k, 'v');
      st._set('p/c', '');
      expect(st._get('p/c')).toBeFalsy();
      expect(st._keys('p/')).toEqual(['p/a', 'p/b']);
      expect(Object.keys(localStorage).sort()).toEqual(local ? ['p/a', 'p/b', 'q/a'] : []);
    }
  });

  test('quota exceeded on write: memory keeps the newest value', () => {
    const st = store(true);
    st._set('k', 'old');
    const spy = vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    st._set('k', 'new');
    expect(st._get('k')).toBe('new');
    spy.mockRestore();
  });
});

describe('uid', () => {
  test('unique, ≥ 16 characters', () => {
    const ids = new Set(Array.from({ length: 1000 }, uid));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id.length).toBeGreaterThanOrEqual(16);
  });

  test('without crypto.randomUUID (http pages) falls back to Math.random', () => {
    vi.stubGlobal('crypto', {});
    const a = uid(),
      b = uid();
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(16);
  });
});

describe('consent', () => {
  test('GPC or DNT: not allowed, unless respectDnt is false', () => {
    const st = store(true);
    expect(consent(st, true)).toBeTruthy();
    setPrivacy(true);
    expect(dnt()).toBeTruthy();
    expect(consent(st, true)).toBeFalsy();
    expect(consent(st, false)).toBeTruthy();
    setPrivacy(undefined, '1');
    expect(consent(st, true)).toBeFalsy();
  });

  test('an explicit choice wins over GPC/DNT', () => {
    const st = store(true);
    setPrivacy(true);
    st._set(CONSENT, '1');
    expect(consent(st, true)).toBeTruthy();
    setPrivacy();
    st._set(CONSENT, '0');
    expect(consent(st, true)).toBeFalsy();
  });

  test('visitor id: created once, persisted in cjm.v', () => {
    const s = store(true);
    const v = visitor(s);
    expect(localStorage.getItem(VISITOR)).toBe(v);
    expect(visitor(store(true))).toBe(v);
  });
});

describe('tracker context', () => {
  test('visitor id persists across page loads and is sent with every batch', async () => {
    const net = fakeNet();
    const s = site();
    const t1 = createTracker({ site: s, endpoint: '/c', auto: false });
    const v = t1.visitorId();
    expect(v).toMatch(/.{16,}/);
    const t2 = createTracker({ site: s, endpoint: '/c', auto: false });
    expect(t2.visitorId()).toBe(v);
    t2.track('x');
    await t2.flush();
    expect(net.batches(s)[0]!.body.visitor).toBe(v);
  });

  test('storage none: no localStorage at all, no visitor sent, events still delivered', async () => {
    const net = fakeNet();
    const get = vi.spyOn(Storage.prototype, 'getItem');
    const set = vi.spyOn(Storage.prototype, 'setItem');
    const s = site();
    const t = createTracker({ site: s, endpoint: '/c', storage: 'none' });
    t.track('x');
    await t.flush();
    t.optOut(); // kept in memory only
    t.track('not sent');
    t.optIn();
    t.track('y');
    await t.flush();
    expect(get).not.toHaveBeenCalled();
    expect(set).not.toHaveBeenCalled();
    expect(t.visitorId()).toBeUndefined();
    const batches = net.batches(s);
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((b) => !('visitor' in b.body))).toBe(true);
    expect(net.events(s).map((e) => e.name ?? e.type)).toEqual(['page', 'x', 'y']);
    get.mockRestore();
    set.mockRestore();
  });

  test('localStorage throwing (storage disabled): everything works in memory', async () => {
    throwingStorage();
    const net = fakeNet();
    const s = site();
    const t = createTracker({ site: s, endpoint: '/c' });
    expect(() => t.track('x', { a: 1 })).not.toThrow();
    expect(t.visitorId()).toMatch(/.{16,}/);
    await t.flush();
    expect(net.events(s).map((e) => e.type)).toEqual(['page', 'event']);
    expect(() => t.optOut()).not.toThrow();
  });

  test('GPC: nothing sent, nothing stored', async () => {
    setPrivacy(true);
    const net = fakeNet();
    const s = site();
    const t = createTracker({ site: s, endpoint: '/c' });
    t.track('x');
    t.identify('u1');
    t.stage('checkout');
    await t.flush();
    expect(t.visitorId()).toBeUndefined();
    expect(net.batches(s)).toEqual([]);
    expect(localStorage.length).toBe(0);
  });

  test('DNT: nothing sent; respectDnt false: sent', async () => {
    setPrivacy(undefined, '1');
    const net = fakeNet();
    const s1 = site(),
      s2 = site();
    const t1 = createTracker({ site: s1, endpoint: '/c' });
    t1.track('x');
    await t1.flush();
    expect(net.batches(s1)).toEqual([]);
    const t2 = createTracker({ site: s2, endpoint: '/c', respectDnt: false });
    t2.track('x');
    await t2.flush();
    expect(net.events(s2).map((e) => e.type)).toEqual(['page', 'event']);
  });

  test('optOut persists (and forgets the visitor and unsent events); optIn persists and wins over GPC', async () => {
    const net = fakeNet();
    const s = site();
    const t = createTracker({ site: s, endpoint: '/c', auto: false });
    const v = t.visitorId();
    t.track('before');
    expect(storedOutbox('cjm.o.' + s).q).toHaveLength(1);
    t.optOut();
    expect(localStorage.getItem('cjm.c')).toBe('0');
    expect(localStorage.getItem('cjm.v')).toBeFalsy();
    expect(Object.keys(localStorage).filter((k) => k.startsWith('cjm.o.'))).toEqual([]);
    t.track('during');
    await t.flush();
    expect(net.events(s)).toEqual([]);
    const again = createTracker({ site: s, endpoint: '/c', auto: false }); // next page load
    again.track('still out');
    await again.flush();
    expect(net.events(s)).toEqual([]);
    setPrivacy(true);
    again.optIn();
    again.track('in');
    await again.flush();
    expect(net.events(s).map((e) => e.name)).toEqual(['in']);
    expect(again.visitorId()).not.toBe(v);
  });
});
