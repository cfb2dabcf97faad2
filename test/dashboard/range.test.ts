import { describe, expect, it } from 'vitest';
import { parseRange } from '../../collector/core/dashboard/range';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23, 14, 37, 5, 123);
const range = (q: string) => parseRange(new URLSearchParams(q), NOW);

describe('dashboard date ranges', () => {
  it('7d, 30d and 90d are whole UTC days, today included; 24h is rolling; all is open', () => {
    expect(range('range=7d')).toMatchObject({
      preset: '7d',
      from: Date.UTC(2026, 10, 17),
      to: undefined,
      label: 'last 7 days',
    });
    expect(range('')).toMatchObject({ preset: '30d', from: Date.UTC(2026, 9, 25), to: undefined });
    expect(range('range=90d').from).toBe(Date.UTC(2026, 10, 23) - 89 * DAY);
    expect(range('range=24h')).toMatchObject({ from: NOW - DAY, to: undefined });
    expect(range('range=all')).toMatchObject({ from: undefined, to: undefined });
    // The same link all day long: the range does not move with the clock until midnight.
    expect(parseRange(new URLSearchParams('range=7d'), Date.UTC(2026, 10, 23, 0, 0, 0, 1)).from).toBe(
      range('range=7d').from,
    );
  });

  it('custom days are whole UTC days, both included; bad values fall back to the default', () => {
    expect(range('from=2026-11-01&to=2026-11-02')).toMatchObject({
      from: Date.UTC(2026, 10, 1),
      to: Date.UTC(2026, 10, 3) - 1,
    });
    expect(range('range=nope')).toMatchObject({ preset: '30d' });
    expect(range('from=yesterday')).toMatchObject({ preset: '30d' });
  });
});
