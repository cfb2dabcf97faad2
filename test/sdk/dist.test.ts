// @vitest-environment happy-dom
/**
 * The built artifacts, not the sources: catches what minification (mangled `_` properties, replaced
 * build constants) could break. dist/ is built by `npm run build` (npm test runs it first).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, test } from 'vitest';
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
