import { describe, expect, it } from 'vitest';
import { ingest } from '../../collector/core/ingest';
import { funnel, journeyMap, touches } from '../../collector/core/reports';
import { defaultSiteConfig } from '../../collector/core/stages';
import { splitRange } from '../../collector/stores/sql/rollups';
import { createSqliteStore, openSqlite } from '../../collector/stores/sqlite';
import { rangesCuttingDays } from '../helpers';

const DAY = 86400_000;
const D = Date.UTC(2026, 10, 1);

describe('splitRange', () => {
  it.each([
    ['open', {}, { days: { from: null, to: null }, raw: [] }],
    ['whole days', { from: D, to: D + 2 * DAY - 1 }, { days: { from: '2026-11-01', to: '2026-11-02' }, raw: [] }],
    [
      'partial edges',
      { from: D + 5, to: D + 3 * DAY + 7 },
      {
        days: { from: '2026-11-02', to: '2026-11-03' },
        raw: [
          { from: D + 5, to: D + DAY - 1 },
          { from: D + 3 * DAY, to: D + 3 * DAY + 7 },
        ],
      },
    ],
    ['inside one day', { from: D + 5, to: D + 9 }, { days: null, raw: [{ from: D + 5, to: D + 9 }] }],
    [
      'open start, partial end',
      { to: D + 10 },
      { days: { from: null, to: '2026-10-31' }, raw: [{ from: D, to: D + 10 }] },
    ],
    [
      'partial start, open end',
      { from: D + 10 },
      { days: { from: '2026-11-02', to: null }, raw: [{ from: D + 10, to: D + DAY - 1 }] },
    ],
  ])('%s', (_, range, parts) => expect(splitRange(range)).toEqual(parts));
});

describe('reports over any millisecond range equal a brute-force count', () => {
  it('for journeys spread over days, with ranges cutting days anywhere', async () => {
    const store = createSqliteStore(openSqlite(':memory:'));
    const site = defaultSiteConfig('demo');
    const starts: number[] = [];
    for (let v = 0; v < 30; v++) {
      const t = D + v * 7 * 3600_000 + v * 1000; // every 7 hours
      starts.push(t);
      const paths = ['/', '/cart', '/checkout', '/thank-you'].slice(0, 1 + (v % 4));
      await ingest(
        store,
        site,
        `v${v}`,
        paths.map((p, i) => ({
          id: `v${v}-${i}`,
          type: 'page' as const,
          ts: t + i * 60_000,
          url: `https://s.test${p}`,
        })),
        D + 20 * DAY,
      );
    }
    const ranges = rangesCuttingDays(D);
    for (const r of ranges) {
      const inRange = starts
        .map((t, v) => ({ t, v }))
        .filter(({ t }) => (r.from === undefined || t >= r.from) && (r.to === undefined || t <= r.to));
      const f = await funnel(store, site, r);
      expect(f.journeys, JSON.stringify(r)).toBe(inRange.length);
      expect(f.stages.find((s) => s.stage === 'cart')!.reached).toBe(inRange.filter(({ v }) => v % 4 >= 1).length);
      expect(f.converted).toBe(inRange.filter(({ v }) => v % 4 === 3).length);
      const m = await journeyMap(store, site, r);
      expect(m.stages[0]!.topPages[0]?.views ?? 0).toBe(inRange.length);
      expect((await touches(store, site, r)).converted).toBe(f.converted);
    }
  });
});
