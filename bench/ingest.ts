/**
 * Collector ingest: autocannon on 127.0.0.1 against `POST /collect` (1- and 10-event batches of new events) on the
 * Node collector (child process, SQLite file, WAL, synchronous=NORMAL) and on the local Worker (workerd + local
 * D1), each beside a bare node:http server answering 204 to the same requests in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cannon, startBareServer, type CannonResult } from './lib/cannon';
import { startCollectorProcess } from './lib/collector-process';

export interface IngestRow {
  target: string;
  events: number;
  result: CannonResult;
}

export const benchIngest = async (seconds: number, log: (s: string) => void, worker = true): Promise<{ rows: IngestRow[]; workerError?: string }> => {
  const rows: IngestRow[] = [];
  const add = (target: string, events: number, result: CannonResult) => {
    rows.push({ target, events, result: { rps: result.rps, p50: result.p50, p99: result.p99, requests: result.requests, non2xx: result.non2xx, errors: result.errors } });
    log(`  ${target}, ${events}-event batches: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms (${result.non2xx} non-2xx, ${result.errors} errors)`);
  };
  const dir = mkdtempSync(join(tmpdir(), 'cjm-bench-ingest-'));
  try {
    for (const events of [1, 10]) {
      const bare = await startBareServer();
      add('bare node:http (204)', events, await cannon({ url: bare.url, events, seconds }));
      await bare.stop();
      const node = await startCollectorProcess({ db: join(dir, `node-${events}.db`), env: { CJM_TRUST_PROXY: '1' } });
      add('Node collector (SQLite)', events, await cannon({ url: node.url, events, seconds, forwardedFor: true }));
      await node.stop();
    }
    if (!worker) return { rows };
    try {
      const { startLocalWorker } = await import('../scripts/worker');
      const w = await startLocalWorker({ adminToken: 'bench', assets: false });
      try {
        for (const events of [1, 10]) add('Worker (workerd + local D1)', events, await cannon({ url: w.url, events, seconds }));
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
