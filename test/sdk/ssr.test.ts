// @vitest-environment node
/** The ESM module during server-side rendering: importable without `window`, no side effects, a no-op tracker. */
import { describe, expect, test } from 'vitest';

describe('SSR', () => {
  test('importing dist/index.mjs touches nothing and createTracker returns a no-op tracker', async () => {
    expect(typeof window).toBe('undefined');
    const before = new Set(Object.getOwnPropertyNames(globalThis));
    const mod = (await import('../../dist/index.mjs' as string)) as typeof import('../../sdk/index');
    expect(Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k))).toEqual([]);
    expect(mod.init).toBe(mod.createTracker);
    const t = mod.createTracker({ site: 'shop', vitals: true });
    expect(() => {
      t.page();
      t.track('x', { a: 1 });
      t.stage('checkout');
      t.identify('u');
      t.feedback(5, 'ok');
      t.vital('LCP', 1);
      t.optOut();
      t.optIn();
    }).not.toThrow();
    expect(t.visitorId()).toBeUndefined();
    await expect(t.flush()).resolves.toBeUndefined();
  });

  test('the source module too', async () => {
    const { createTracker } = await import('../../sdk/index');
    const t = createTracker({ site: 'shop' });
    await expect(t.flush()).resolves.toBeUndefined();
  });

  test('dist/index.d.ts is one self-contained file with the public types', async () => {
    const { readFileSync } = await import('node:fs');
    const dts = readFileSync(new URL('../../dist/index.d.ts', import.meta.url), 'utf8');
    expect(dts).not.toMatch(/\bimport\b|\bfrom\s+['"]/);
    for (const name of ['Props', 'Options', 'Tracker', 'createTracker', 'init']) expect(dts).toContain(name);
  });
});
