/**
 * Load: the Node collector (child process, SQLite file) at a fixed request rate for a minute, 10-event batches.
 * Latency is recorded per response and grouped by second; p99 of the first and the last 10 s are compared, and the
 * collector's resident memory is sampled every second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cannon } from './lib/cannon';
import { startCollectorProcess } from './lib/collector-process';

export interface LoadFigures {
  seconds: number;
  rate: number;
  achieved: number;
  events: number;
  non2xx: number;
  errors: number;
  p99First: number;
  p99Last: number;
  p50First: number;
  p50Last: number;
  rssStart: number;
  rssMax: number;
  rssEnd: number;
  /** p99 per 10-second window. */
  windows: number[];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? NaN) * 10) / 10;
};

export const benchLoad = async (rate: number, seconds = 60, events = 10): Promise<LoadFigures> => {
  const dir = mkdtempSync(join(tmpdir(), 'cjm-bench-load-'));
  const proc = await startCollectorProcess({
    db: join(dir, 'load.db'),
    env: { CJM_TRUST_PROXY: '1', CJM_QUOTA_EVENTS_PER_DAY: '1000000000' }, // a benchmark is not a flood
  });
  const samples: Array<[number, number]> = [];
  const rss: number[] = [];
  const t0 = Date.now();
  const sampler = setInterval(() => {
    const r = proc.rss();
    if (r) rss.push(r);
  }, 1000);
  try {
    rss.push(proc.rss() ?? 0);
    const res = await cannon({
      url: proc.url,
      events,
      seconds,
      rate,
      connections: Math.max(4, Math.min(50, Math.ceil(rate / 20))),
      forwardedFor: true,
      onResponse: (ms) => samples.push([Date.now() - t0, ms]),
    });
    const window = (from: number, to: number) =>
      samples.filter(([t]) => t >= from * 1000 && t < to * 1000).map(([, ms]) => ms);
    const windows: number[] = [];
    for (let s = 0; s < seconds; s += 10) windows.push(pct(window(s, s + 10), 99));
    const first = window(0, 10);
    const last = window(seconds - 10, seconds + 5);
    rss.push(proc.rss() ?? 0);
    return {
      seconds,
      rate,
      achieved: res.rps,
      events: Math.round(res.rps * seconds * events),
      non2xx: res.non2xx,
      errors: res.errors,
      p99First: pct(first, 99),
      p99Last: pct(last, 99),
      p50First: pct(first, 50),
      p50Last: pct(last, 50),
      rssStart: rss[0] ?? 0,
      rssMax: Math.max(...rss),
      rssEnd: rss[rss.length - 1] ?? 0,
      windows,
    };
  } finally {
    clearInterval(sampler);
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
