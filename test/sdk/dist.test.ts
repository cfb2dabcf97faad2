// @vitest-environment happy-dom
/**
 * The built artifacts, not the sources: catches what minification (mangled `_` properties, replaced
 * build constants) could break. dist/ is built by `npm run build` (npm test runs it first).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { fakeNet, site, storedOutbox } from './helpers';

const read = (f: string) => readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../dist', f), 'utf8');
type Cjm = ((...a: unknown[]) => unknown) & {
  track(n: string, p?: object): void;
  flush(): Promise<void>;
  q?: unknown[];
};
const w = window as unknown as { cjm?: Cjm };

const settings = (window as unknown as { happyDOM?: { settings: { handleDisabledFileLoadingAsSuccess: boolean } } })
  .happyDOM?.settings;
if (settings) settings.handleDisabledFileLoadingAsSuccess = true;

/** Runs dist/cjm.js as if from <script src=… data-…>. */
const run = (attrs: Record<string, string>) => {
  const s = document.createElement('script');
  for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => s });
  new Function(read('cjm.js'))();
};

beforeEach(() => {
  delete w.cjm;
  localStorage.clear();
});

describe('dist/cjm.js', () => {
  test('one IIFE: stub replay, page view, both call styles, outbox, no global but cjm', async () => {
    const net = fakeNet();
    const s = site();
    const before = new Set(Object.getOwnPropertyNames(window));
    new Function('window.cjm=window.cjm||function(){(cjm.q=cjm.q||[]).push(arguments)}')();
    w.cjm!('track', 'early', { k: 'v' });
    run({ src: 'https://cdn.test/cjm.js', 'data-site': s });
    w.cjm!('track', 'late');
    w.cjm!.track('later');
    expect(storedOutbox('cjm.o.' + s).q).toHaveLength(4);
    await w.cjm!.flush();
    expect(net.batches(s)[0]!.url).toBe('https://cdn.test/collect');
    expect(net.events(s).map((e) => e.name ?? e.type)).toEqual(['page', 'early', 'late', 'later']);
    expect(net.batches(s)[0]!.body.visitor).toBe(localStorage.getItem('cjm.v'));
    expect(storedOutbox('cjm.o.' + s).q).toEqual([]);
    run({ src: 'https://cdn.test/cjm.js', 'data-site': s }); // twice: nothing
    await w.cjm!.flush();
    expect(net.events(s)).toHaveLength(4);
    expect(Object.getOwnPropertyNames(window).filter((k) => !before.has(k))).toEqual(['cjm']);
  });

  test('has no dynamic import, no ESM-only branch, no console', () => {
    const code = read('cjm.js');
    expect(code).not.toMatch(/import\(|typeof window|console\./);
  });

  test('carries nothing of the markup chunk, and no test clock', () => {
    const code = read('cjm.js');
    expect(code).not.toMatch(/data-cjm|cjmEvent|cjmStage|DOMContentLoaded/);
    expect(code).not.toMatch(/\bclock\b/);
    expect(code).toMatch(/setTimeout\(/);
  });
});

/**
 * Runs dist/cjm.markup.js; afterEach takes away its listeners and history hooks, so the copy of one test does not
 * answer the clicks and URL changes of the next (a page runs one copy).
 */
const undo: Array<() => void> = [];
const runMarkup = () => {
  const { pushState, replaceState } = history;
  const targets: EventTarget[] = [document, window];
  const spies = targets.map((target) => [target, vi.spyOn(target, 'addEventListener')] as const);
  new Function(read('cjm.markup.js'))();
  const added = spies.flatMap(([target, spy]) => spy.mock.calls.map((args) => [target, args] as const));
  spies.forEach(([, spy]) => spy.mockRestore());
  undo.push(() => {
    for (const [target, [type, listener, options]] of added) target.removeEventListener(type, listener, options);
    Object.assign(history, { pushState, replaceState });
  });
};

describe('dist/cjm.markup.js', () => {
  afterEach(() => {
    undo.splice(0).forEach((f) => f());
    document.body.innerHTML = '';
    history.replaceState(null, '', '/');
  });

  test('injected by the tag (data-markup): clicks and stages from markup go through the tag', async () => {
    const net = fakeNet();
    const s = site();
    document.body.innerHTML =
      '<main data-cjm-stage="product"><a href="#buy" data-cjm-event="add_to_cart" data-cjm-prop-sku="mug"><b>Add</b></a></main>';
    run({ src: 'https://cdn.test/cjm.js', 'data-site': s, 'data-markup': '' });
    runMarkup();
    document.querySelector('b')!.click();
    document.body.innerHTML = '<main data-cjm-stage="cart"></main>';
    history.pushState(null, '', '/cart');
    await vi.waitFor(() => expect(storedOutbox('cjm.o.' + s).q.map(([e]) => e.stage)).toContain('cart'));
    await w.cjm!.flush();
    expect(net.events(s).map((e) => e.stage ?? e.name ?? e.type)).toEqual([
      'page',
      'product',
      'add_to_cart',
      'page',
      'cart',
    ]);
    expect(net.events(s)[2]!.props).toEqual({ sku: 'mug' });
  });

  test('loaded by the page before the tag: its calls wait in the stub queue, and the tag sends them', async () => {
    const net = fakeNet();
    const s = site();
    const before = new Set(Object.getOwnPropertyNames(window));
    document.body.innerHTML = '<main data-cjm-stage="product"><button data-cjm-event="early">x</button></main>';
    runMarkup();
    document.querySelector('button')!.click();
    expect(w.cjm!.q).toHaveLength(2);
    run({ src: 'https://cdn.test/cjm.js', 'data-site': s });
    await w.cjm!.flush();
    expect(net.events(s).map((e) => e.stage ?? e.name ?? e.type)).toEqual(['page', 'product', 'early']);
    expect(Object.getOwnPropertyNames(window).filter((k) => !before.has(k))).toEqual(['cjm']);
  });
});

describe('dist/index.mjs', () => {
  test('createTracker works in a browser', async () => {
    const net = fakeNet();
    const s = site();
    const { createTracker } = (await import('../../dist/index.mjs' as string)) as typeof import('../../sdk/index');
    const t = createTracker({ site: s, endpoint: 'https://c.test/collect', vitals: true });
    t.track('x');
    await t.flush();
    expect(net.events(s).map((e) => e.type)).toEqual(['page', 'event']);
  });
});
