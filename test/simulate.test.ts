/**
 * `npm run simulate` against a fresh collector: the traffic goes through the real `/collect`, and the funnel, touches,
 * journey-map and channel numbers the API returns equal the ground truth the simulator wrote, exactly — under the
 * default stage model, and under stage templates that go past the purchase (`--template`: repeat purchases, reviews,
 * referrals, test orders, returns after weeks), each on a site of its own.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Running } from '../collector/node';
import type {
  TimeToConvertReport,
  FunnelReport,
  JourneyMapReport,
  RetentionReport,
  TouchesReport,
} from '../collector/core/reports';
import { STAGE_TEMPLATES } from '../collector/core/stages';
import { generate, STAGES, type Distribution as TruthDistribution, type Truth } from '../scripts/simulate';

const HOUR = 3_600_000;
const VISITORS = 400;
/** Visitors of each template run (four of them run beside the default one). */
const TEMPLATE_VISITORS = 300;
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

  it.each(STAGE_TEMPLATES.map((t) => [t.id, t] as const))(
    'with --template %s: every stage reached, the whole model in the window, the same traffic for every template',
    (id, t) => {
      const { truth, visitors } = generate({ ...opts, visitors: 1000, template: id });
      expect(truth.template).toBe(id);
      expect(truth.stages.map((s) => s.stage)).toEqual(t.stages.map((s) => s.name));
      expect(truth.conversionStage).toBe(t.conversion);
      for (const s of truth.stages) expect(s.reached, s.stage).toBeGreaterThan(0);
      expect(truth.firstEventAt).toBeGreaterThanOrEqual(opts.now - 31 * 24 * HOUR);
      expect(truth.lastEventAt).toBeLessThan(opts.now);
      // The same traffic under every template, but for the stage names vitals and feedback carry.
      const shop = generate({ ...opts, visitors: 1000, template: 'shop' });
      const traffic = (vs: typeof visitors) =>
        JSON.stringify(vs.map((v) => v.batches.map((b) => b.map(({ stage: _s, ...e }) => e))));
      expect(traffic(visitors)).toBe(traffic(shop.visitors));
    },
  );

  it('with a template, customers live after the purchase: reorders, reviews, referrals, renewals, long returns', () => {
    const { visitors } = generate({ ...opts, visitors: 1000, template: 'lifecycle' });
    const events = visitors.flatMap((v) => v.batches.flat());
    const named = (name: string) => events.filter((e) => e.type === 'event' && e.name === name);
    const buyers = visitors.filter((v) => v.batches.flat().some((e) => e.name === 'purchase'));
    const repeat = buyers.filter((v) => v.batches.flat().filter((e) => e.name === 'purchase').length >= 2);
    expect(repeat.length).toBeGreaterThan(10);
    for (const name of ['review_submitted', 'referral_sent', 'subscription_renewed', 'order_delivered', 'search'])
      expect(named(name).length, name).toBeGreaterThan(10);
    expect(named('purchase').filter((e) => e.props?.test === true).length).toBeGreaterThan(0);
    // Returns after two weeks or more (the lifecycle template's retention), all within the 31-day window.
    const longGaps = visitors.filter((v) => {
      const ts = v.batches.flat().map((e) => e.ts);
      return ts.some((t, i) => i > 0 && t - ts[i - 1]! >= 14 * 24 * HOUR);
    });
    expect(longGaps.length).toBeGreaterThan(10);
  });
});

/** The runs against one collector: the default model on `demo`, and one site per template. */
const RUNS = [
  { site: 'demo', template: undefined },
  ...STAGE_TEMPLATES.filter((t) => t.id !== 'shop').map((t) => ({ site: `t-${t.id}`, template: t.id })),
] as const;

describe('simulate → /collect → API equals the ground truth', () => {
  let server: Running;
  const results = new Map<string, { truth: Truth; fun: FunnelReport; map: JourneyMapReport; tch: TouchesReport }>();

  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    });
    expect(res.status, path).toBeLessThan(300);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    server = await start({ port: 0, db: ':memory:', adminToken: 'sim-token-0123456789abcdef' });
    const dir = mkdtempSync(join(tmpdir(), 'cjm-sim-'));
    const now = Math.floor(Date.now() / HOUR) * HOUR;
    for (const r of RUNS)
      if (r.site !== 'demo') await api('/api/sites', { method: 'POST', body: JSON.stringify({ id: r.site }) });
    // The real command line, as a user runs it; a template run sets the site's stage model itself (--token).
    await Promise.all(
      RUNS.map(async (r) => {
        const file = join(dir, `${r.site}.json`);
        await promisify(execFile)(
          process.execPath,
          [
            '--import',
            'tsx',
            'scripts/simulate.ts',
            '--visitors',
            String(r.template ? TEMPLATE_VISITORS : VISITORS),
            '--seed',
            String(SEED),
            '--url',
            server.url,
            '--site',
            r.site,
            '--truth',
            file,
            '--now',
            String(now),
            ...(r.template ? ['--template', r.template, '--token', server.token] : []),
          ],
          { cwd: process.cwd(), env: { ...process.env, NODE_NO_WARNINGS: '1' } },
        );
        const truth = JSON.parse(readFileSync(file, 'utf8')) as Truth;
        const [fun, map, tch] = await Promise.all([
          api<FunnelReport>(`/api/sites/${r.site}/funnel`),
          api<JourneyMapReport>(`/api/sites/${r.site}/journey-map?top=50`),
          api<TouchesReport>(`/api/sites/${r.site}/touches`),
        ]);
        results.set(r.site, { truth, fun, map, tch });
      }),
    );
  }, 360_000);
  afterAll(async () => {
    await server?.close();
  });

  describe.each(RUNS)('$site ($template)', ({ site, template }) => {
    const got = () => results.get(site)!;

    it("wrote the truth of what it sent, under the site's model", async () => {
      const { truth, fun } = got();
      const visitors = template ? TEMPLATE_VISITORS : VISITORS;
      expect(truth.visitors).toBe(visitors);
      expect(truth.seed).toBe(SEED);
      expect(truth.journeys).toBe(visitors);
      expect(truth.template).toBe(template ?? 'shop');
      expect(fun.stages.map((s) => s.stage)).toEqual(truth.stages.map((s) => s.stage));
      expect(fun.conversionStage).toBe(truth.conversionStage);
      const answer = await api<{ refold: { pending: number } }>(`/api/sites/${site}`);
      expect(answer.refold.pending).toBe(0);
    });

    it('funnel: journeys, conversions, reached / current / entries per stage', () => {
      const { truth, fun } = got();
      expect(fun.journeys).toBe(truth.journeys);
      expect(fun.converted).toBe(truth.converted);
      expect(fun.stages.map((s) => [s.stage, s.reached, s.current, s.entries])).toEqual(
        truth.stages.map((s) => [s.stage, s.reached, s.current, s.entries]),
      );
      if (template) for (const s of truth.stages) expect(s.reached, s.stage).toBeGreaterThan(0);
    });

    it('funnel: every transition, back-steps included', () => {
      const { truth, fun } = got();
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

    // Under the default model a converted journey never goes back before the conversion, so the journeys in a
    // stage before it are exactly those that stopped there (with a template, customers browse again after buying).
    if (!template)
      it('stalls: where non-converted journeys stopped', () => {
        const { truth, fun } = got();
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
      const { truth, tch } = got();
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

    it('channels: first channels and the entry channel of every stage', async () => {
      const { truth, map } = got();
      const asRecord = (list: Array<{ channel: string; journeys: number }>) =>
        Object.fromEntries(list.map((c) => [c.channel, c.journeys]));
      // Under the default model every journey starts in the first stage (with a template, a product page may
      // already be the second), so its entry channels are the first channels.
      if (!template) expect(asRecord(map.stages[0]!.entryChannels)).toEqual(truth.firstChannels);
      const list = await api<{ visitors: Array<{ firstChannel: string }>; cursor: string | null }>(
        `/api/sites/${site}/visitors?limit=500`,
      );
      expect(list.cursor).toBeNull();
      const first: Record<string, number> = {};
      for (const v of list.visitors) first[v.firstChannel] = (first[v.firstChannel] ?? 0) + 1;
      expect(first).toEqual(truth.firstChannels);
      for (let i = 0; i < truth.stages.length; i++) {
        expect(asRecord(map.stages[i]!.entryChannels), truth.stages[i]!.stage).toEqual(truth.stages[i]!.entryChannels);
      }
      for (const c of ['maps', 'forum']) expect(truth.firstChannels[c], c).toBeGreaterThan(0);
    });

    it('time to convert: count, exact median and p90, windows, and per device', async () => {
      const { truth } = got();
      const rank = (times: number[], p: number) => (times.length ? times[Math.ceil(p * times.length) - 1]! : null);
      const check = async (qs: string, journeys: number, times: number[]) => {
        const r = await api<TimeToConvertReport>(`/api/sites/${site}/time-to-convert${qs}`);
        expect(r.journeys, qs).toBe(journeys);
        expect(r.converted, qs).toBe(times.length);
        expect(r.medianMs, qs).toBe(rank(times, 0.5));
        expect(r.p90Ms, qs).toBe(rank(times, 0.9));
        for (const w of r.windows)
          expect(w.converted, `${qs} ${w.withinMs}`).toBe(times.filter((x) => x <= w.withinMs).length);
        expect(
          r.buckets.reduce((n, b) => n + b.journeys, 0),
          qs,
        ).toBe(times.length);
      };
      expect(truth.timeToConvert.all.length).toBe(truth.converted);
      await check('', truth.journeys, truth.timeToConvert.all);
      for (const [device, d] of Object.entries(truth.timeToConvert.byDevice)) {
        if (device === 'none') continue;
        await check(`?device=${device}`, d.journeys, d.times);
      }
    });

    it('lifecycle numbers (repeat purchases, time to the second, returns) and cohort retention', async () => {
      const { truth, map } = got();
      const want = truth.lifecycle;
      // With a template, customers live after the purchase (reorders, returns); the default shop run buys once.
      if (template) expect(want.repeatCustomers).toBeGreaterThan(0);
      expect(want.converted).toBe(truth.converted);
      expect(map.lifecycle).toEqual({
        customers: want.customers,
        repeatCustomers: want.repeatCustomers,
        repeatPurchaseRate: want.customers ? want.repeatCustomers / want.customers : null,
        medianToSecondPurchaseMs: want.medianToSecondPurchaseMs,
        purchases: want.purchases,
        purchasesPerCustomer: want.customers ? want.purchases / want.customers : null,
        converted: want.converted,
        returnedAfterConversion: want.returnedAfterConversion,
        returnRate: want.converted ? want.returnedAfterConversion / want.converted : null,
      });
      const r = await api<RetentionReport>(`/api/sites/${site}/retention`);
      expect(r.cohorts.map((c) => [c.week, c.journeys])).toEqual(truth.retention.map((c) => [c.week, c.journeys]));
      r.cohorts.forEach((c, i) => {
        // A week that has not begun (null) can hold no session of the simulated past.
        expect(c.active, c.week).toEqual(truth.retention[i]!.active.map((n, k) => (c.active[k] === null ? null : n)));
      });
    });

    it('journey map: visitors, drop-offs, feedback and vitals p75 per stage', () => {
      const { truth, map } = got();
      expect(map.journeys).toBe(truth.journeys);
      for (let i = 0; i < truth.stages.length; i++) {
        const got = map.stages[i]!;
        const want = truth.stages[i]!;
        expect(got.visitors, want.stage).toBe(want.reached);
        expect(got.dropOffs, want.stage).toBe(i === truth.stages.length - 1 ? null : want.furthest);
        expect(got.feedback.count, want.stage).toBe(want.feedback.count);
        if (want.feedback.count > 0)
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
});
