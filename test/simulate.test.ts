/**
 * `npm run simulate` against a fresh collector: the traffic goes through the real `/collect`, and the funnel, touches,
 * journey-map and channel numbers the API returns equal the ground truth the simulator wrote, exactly.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Running } from '../collector/node';
import type { FunnelReport, JourneyMapReport, TouchesReport } from '../collector/core/reports';
import { generate, STAGES, type Distribution as TruthDistribution, type Truth } from '../scripts/simulate';

const HOUR = 3_600_000;
const VISITORS = 400;
const SEED = 7;

describe('simulate: deterministic traffic', () => {
  const opts = { visitors: 200, seed: 42, now: Date.UTC(2026, 10, 23, 12), days: 28, site: 'demo' };

  it('gives the same traffic, ids included, for the same seed, and other traffic for another seed', () => {
    const a = generate(opts);
    const b = generate(opts);
    expect(JSON.stringify(b.visitors)).toBe(JSON.stringify(a.visitors));
    expect(b.truth).toEqual(a.truth);
    const c = generate({ ...opts, seed: 43 });
    expect(c.visitors[0]!.id).not.toBe(a.visitors[0]!.id);
  });

  it('has drop-off at every stage, back-steps, returning visitors, identify, feedback and vitals, all in the window', () => {
    const { truth, visitors } = generate({ ...opts, visitors: 1000 });
    for (let i = 0; i < STAGES.length - 1; i++) expect(truth.stages[i]!.furthest, STAGES[i]).toBeGreaterThan(0);
    expect(truth.backSteps.journeys).toBeGreaterThan(0);
    expect(truth.returning).toBeGreaterThan(0);
    expect(truth.identified).toBeGreaterThan(0);
    expect(truth.stages.every((s) => s.feedback.count > 0)).toBe(true);
    expect(truth.stages.every((s) => Object.keys(s.vitals).length > 0)).toBe(true);
    expect(Object.keys(truth.firstChannels).length).toBeGreaterThanOrEqual(8);
    expect(truth.firstEventAt).toBeGreaterThanOrEqual(opts.now - 31 * 24 * HOUR);
    expect(truth.lastEventAt).toBeLessThan(opts.now);
    for (const v of visitors) for (const b of v.batches) expect(b.length).toBeLessThanOrEqual(100);
  });
});

describe('simulate → /collect → API equals the ground truth', () => {
  let server: Running;
  let truth: Truth;
  let fun: FunnelReport;
  let map: JourneyMapReport;
  let tch: TouchesReport;

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${server.token}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    server = await start({ port: 0, db: ':memory:', adminToken: 'sim-token-0123456789abcdef' });
    const dir = mkdtempSync(join(tmpdir(), 'cjm-sim-'));
    const file = join(dir, 'truth.json');
    const now = Math.floor(Date.now() / HOUR) * HOUR;
    // The real command line, as a user runs it.
    await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/simulate.ts',
        '--visitors',
        String(VISITORS),
        '--seed',
        String(SEED),
        '--url',
        server.url,
        '--site',
        'demo',
        '--truth',
        file,
        '--now',
        String(now),
      ],
      { cwd: process.cwd(), env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    truth = JSON.parse(readFileSync(file, 'utf8')) as Truth;
    [fun, map, tch] = await Promise.all([
      api<FunnelReport>('/api/sites/demo/funnel'),
      api<JourneyMapReport>('/api/sites/demo/journey-map?top=50'),
      api<TouchesReport>('/api/sites/demo/touches'),
    ]);
  }, 240_000);
  afterAll(async () => {
    await server?.close();
  });

  it('wrote the truth of what it sent', () => {
    expect(truth.visitors).toBe(VISITORS);
    expect(truth.seed).toBe(SEED);
    expect(truth.journeys).toBe(VISITORS);
  });

  it('funnel: journeys, conversions, reached / current / entries per stage', () => {
    expect(fun.journeys).toBe(truth.journeys);
    expect(fun.converted).toBe(truth.converted);
    expect(fun.stages.map((s) => [s.stage, s.reached, s.current, s.entries])).toEqual(
      truth.stages.map((s) => [s.stage, s.reached, s.current, s.entries]),
    );
  });

  it('funnel: every transition, back-steps included', () => {
    const key = (t: { from: string; to: string; journeys: number; count: number; back: boolean }) => [
      t.from,
      t.to,
      t.journeys,
      t.count,
      t.back,
    ];
    expect(fun.transitions.map(key).sort()).toEqual(truth.transitions.map(key).sort());
    const back = fun.transitions.filter((t) => t.back);
    expect(back.reduce((s, t) => s + t.count, 0)).toBe(truth.backSteps.count);
  });

  it('stalls: where non-converted journeys stopped', () => {
    const stalls = Object.fromEntries(
      fun.stages.filter((s) => s.stage !== fun.conversionStage && s.current > 0).map((s) => [s.stage, s.current]),
    );
    expect(stalls).toEqual(truth.stalls);
  });

  const sameDistribution = (got: TouchesReport['touches'], want: TruthDistribution) => {
    expect([got.count, got.median, got.p75, got.min, got.max]).toEqual([
      want.count,
      want.median,
      want.p75,
      want.min,
      want.max,
    ]);
    expect(Object.fromEntries(got.buckets.map((b) => [b.label, b.count]))).toEqual(want.buckets);
  };

  it('touches and sessions to conversion, overall and per first channel', () => {
    expect(tch.converted).toBe(truth.converted);
    sameDistribution(tch.touches, truth.touchesToConversion);
    sameDistribution(tch.sessions, truth.sessionsToConversion);
    const converting = Object.entries(truth.byFirstChannel).filter(([, c]) => c.converted > 0);
    expect(tch.byFirstChannel.map((c) => c.channel).sort()).toEqual(converting.map(([c]) => c).sort());
    for (const c of tch.byFirstChannel) {
      const want = truth.byFirstChannel[c.channel]!;
      expect(c.converted, c.channel).toBe(want.converted);
      sameDistribution(c.touches, want.touches);
      sameDistribution(c.sessions, want.sessions);
    }
  });

  it('channels: first channels and the entry channel of every stage', () => {
    const asRecord = (list: Array<{ channel: string; journeys: number }>) =>
      Object.fromEntries(list.map((c) => [c.channel, c.journeys]));
    expect(asRecord(map.stages[0]!.entryChannels)).toEqual(truth.firstChannels);
    for (let i = 0; i < STAGES.length; i++) {
      expect(asRecord(map.stages[i]!.entryChannels), STAGES[i]).toEqual(truth.stages[i]!.entryChannels);
    }
  });

  it('journey map: visitors, drop-offs, feedback and vitals p75 per stage', () => {
    expect(map.journeys).toBe(truth.journeys);
    for (let i = 0; i < STAGES.length; i++) {
      const got = map.stages[i]!;
      const want = truth.stages[i]!;
      expect(got.visitors, want.stage).toBe(want.reached);
      expect(got.dropOffs, want.stage).toBe(i === STAGES.length - 1 ? null : want.furthest);
      expect(got.feedback.count, want.stage).toBe(want.feedback.count);
      expect(got.feedback.average!, want.stage).toBeCloseTo(want.feedback.sum / want.feedback.count, 9);
      const vitals = Object.fromEntries(
        Object.entries(want.vitals).map(([name, values]) => [
          name,
          { p75: values[Math.ceil(0.75 * values.length) - 1], samples: values.length },
        ]),
      );
      expect(got.vitals, want.stage).toEqual(vitals);
    }
  });
});
