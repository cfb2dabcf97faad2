/**
 * Collector ingest: autocannon on 127.0.0.1 against `POST /collect` (1- and 10-event batches of new events) on the
 * Node collector (child process, SQLite file, WAL, synchronous=NORMAL) and on the local Worker (workerd + local
 * D1), each beside a bare node:http server answering 204 to the same requests in the same run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cannon, startBareServer, type CannonResult } from './lib/cannon';
import { startCollectorProcess } from './lib/collector-process';
import { templatePatch } from '../collector/core/stages';

/** The admin token of the benchmarked collectors (24+ characters: shorter ones are refused at start). */
const BENCH_TOKEN = 'bench-token-0123456789abcdef';
/** Concurrent connections of every ingest row (issue 15's figures are at 50). */
export const CONNECTIONS = 50;

export interface IngestRow {
  target: string;
  events: number;
  result: CannonResult;
  /** Median ms to read one visitor's timeline through the API on the database the run just filled. */
  timelineMs?: number;
  /** The collector process's CPU time per event committed, in µs (Node rows). */
  cpuUsPerEvent?: number;
  /** Requests and events per group commit, p50 and p99 (Node rows; CJM_BATCH_STATS). */
  commit?: { requests: [number, number]; events: [number, number] };
}

const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

/** Median latency of `GET /api/sites/demo/visitors/:visitor` for up to 30 visitors of the run (the same requests on
 * every server). */
export const timelineLatency = async (url: string, token: string): Promise<number> => {
  const headers = { Authorization: `Bearer ${token}` };
  const list = (await (await fetch(`${url}/api/sites/demo/visitors?limit=30`, { headers })).json()) as {
    visitors: { visitor: string }[];
  };
  const times: number[] = [];
  for (const v of list.visitors) {
    const t = performance.now();
    const res = await fetch(`${url}/api/sites/demo/visitors/${encodeURIComponent(v.visitor)}`, { headers });
    await res.arrayBuffer();
    if (res.ok) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
};

/**
 * With `template` (a stage template id), the Node collector is measured twice on the same traffic (bodyFactory's
 * lifecycle traffic, which the rules of the templates act on): under the default model and under the template, set
 * through `PUT /api/sites/demo`; the Worker is not run.
 */
/** Sets the demo site's stage model to a template through the admin API. */
const useTemplate = async (url: string, token: string, id: string): Promise<void> => {
  const res = await fetch(`${url}/api/sites/demo`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(templatePatch(id)),
  });
  if (!res.ok) throw new Error(`[cjm bench] cannot use the template "${id}": ${res.status} ${await res.text()}`);
};

export const benchIngest = async (
  seconds: number,
  log: (s: string) => void,
  worker = true,
  template?: string,
): Promise<{ rows: IngestRow[]; workerError?: string }> => {
  const rows: IngestRow[] = [];
  const add = (
    target: string,
    events: number,
    result: CannonResult,
    timelineMs?: number,
    extra: Pick<IngestRow, 'cpuUsPerEvent' | 'commit'> = {},
  ) => {
    const row: IngestRow = {
      target,
      events,
      result: {
        rps: result.rps,
        p50: result.p50,
        p99: result.p99,
        requests: result.requests,
        non2xx: result.non2xx,
        errors: result.errors,
      },
    };
    if (timelineMs !== undefined) row.timelineMs = timelineMs;
    Object.assign(row, extra);
    rows.push(row);
    log(
      `  ${target}, ${events}-event batches: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms (${result.non2xx} non-2xx, ${result.errors} errors)${timelineMs === undefined ? '' : `, timeline ${timelineMs.toFixed(1)} ms`}`,
    );
  };
  const dir = mkdtempSync(join(tmpdir(), 'cjm-bench-ingest-'));
  try {
    for (const events of [1, 10]) {
      const bare = await startBareServer();
      add('bare node:http (204)', events, await cannon({ url: bare.url, events, seconds, connections: CONNECTIONS }));
      await bare.stop();
      for (const model of template ? [undefined, template] : [undefined]) {
        const statsFile = join(dir, `stats-${events}-${model ?? 'default'}.json`);
        const node = await startCollectorProcess({
          db: join(dir, `node-${events}-${model ?? 'default'}.db`),
          token: BENCH_TOKEN,
          // A benchmark is not a flood; the commit sizes are written at exit.
          env: { CJM_TRUST_PROXY: '1', CJM_QUOTA_EVENTS_PER_DAY: '1000000000', CJM_BATCH_STATS: statsFile },
        });
        if (model) await useTemplate(node.url, BENCH_TOKEN, model);
        const cpuBefore = node.cpuMs() ?? 0;
        const result = await cannon({
          url: node.url,
          events,
          seconds,
          connections: CONNECTIONS,
          forwardedFor: true,
          lifecycle: !!template,
        });
        const label = template ? `, ${model ? `template ${model}` : 'default model'}, lifecycle traffic` : '';
        const cpu = (node.cpuMs() ?? Number.NaN) - cpuBefore;
        const timeline = await timelineLatency(node.url, BENCH_TOKEN);
        await node.stop();
        const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as { requests: number[]; events: number[] };
        add(`Node collector (SQLite)${label}`, events, result, timeline, {
          cpuUsPerEvent: (cpu * 1000) / (result.requests * events),
          commit: {
            requests: [quantile(stats.requests, 0.5), quantile(stats.requests, 0.99)],
            events: [quantile(stats.events, 0.5), quantile(stats.events, 0.99)],
          },
        });
      }
    }
    if (!worker || template) return { rows };
    try {
      const { startLocalWorker } = await import('../scripts/worker');
      const w = await startLocalWorker({ adminToken: BENCH_TOKEN, assets: false });
      try {
        for (const events of [1, 10]) {
          const result = await cannon({ url: w.url, events, seconds, forwardedFor: true });
          add('Worker (workerd + local D1)', events, result, await timelineLatency(w.url, BENCH_TOKEN));
        }
      } finally {
        await w.stop();
      }
    } catch (e) {
      return { rows, workerError: (e as Error).message.split('\n')[0] };
    }
    return { rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
