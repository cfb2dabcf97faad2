// @vitest-environment happy-dom
import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { Metric } from 'web-vitals';

/** web-vitals replaced by functions that report what the test tells them to. */
const reporters: Record<string, (m: Metric) => void> = {};
vi.mock('web-vitals', () => {
  const on = (name: string) => (cb: (m: Metric) => void) => {
    reporters[name] = cb;
  };
  return { onCLS: on('CLS'), onFCP: on('FCP'), onINP: on('INP'), onLCP: on('LCP'), onTTFB: on('TTFB') };
});

const report = (name: string, value: number) => reporters[name]!({ name, value } as Metric);

beforeEach(() => {
  for (const k in reporters) delete reporters[k];
});

describe('vitals', () => {
  test('each of LCP, INP, CLS, FCP, TTFB is reported once per page', async () => {
    const { vitals } = await import('../../sdk/vitals');
    const vital = vi.fn();
    vitals(vital);
    expect(Object.keys(reporters).sort()).toEqual(['CLS', 'FCP', 'INP', 'LCP', 'TTFB']);
    report('LCP', 1200);
    report('LCP', 1500); // a later, larger candidate: not sent again
    report('CLS', 0.02);
    report('CLS', 0.05);
    report('INP', 80);
    report('FCP', 900);
    report('TTFB', 120);
    expect(vital.mock.calls).toEqual([
      ['LCP', 1200],
      ['CLS', 0.02],
      ['INP', 80],
      ['FCP', 900],
      ['TTFB', 120],
    ]);
  });

  test('a failing receiver does not break web-vitals callbacks', async () => {
    const { vitals } = await import('../../sdk/vitals');
    vitals(() => {
      throw new Error('boom');
    });
    expect(() => report('LCP', 1)).not.toThrow();
  });

  test('the chunk entry talks to the loaded tag through window.cjm.vital (no transport of its own)', async () => {
    const vital = vi.fn();
    (window as unknown as { cjm: unknown }).cjm = Object.assign(() => {}, { vital });
    vi.resetModules();
    await import('../../sdk/tag-vitals');
    report('LCP', 2500);
    report('INP', 200);
    expect(vital.mock.calls).toEqual([
      ['LCP', 2500],
      ['INP', 200],
    ]);
    delete (window as unknown as { cjm?: unknown }).cjm;
    expect(() => report('CLS', 0.1)).not.toThrow(); // no tag: nothing happens
  });
});
