/**
 * `npm run bench`: every benchmark of docs/benchmarks.md in one run, printed as tables and written to
 * docs/benchmarks.md with the machine, the command and the numbers (ratios against baselines measured in the same run).
 *
 *   npm run bench                      sizes, page cost, ingest (Node + Worker), queries at 10k/100k/1M events, 60 s load
 *   npm run bench -- --full            queries also at 10M events / 1M visitors (hours on a small machine)
 *   npm run bench -- --quick           small sizes and short runs, to try the bench itself (does not write the docs)
<<<<<<< HEAD
 *   npm run bench -- --only=sizes,ingest   some sections only (does not write the docs unless --write: then only
 *                                      those sections of docs/benchmarks.md are replaced, each saying how it was run);
 *                                      sections: sizes, page, ingest, queue, queries, retention, expiry, load
 *   --only=expiry                      the retention pass on 100k visitors (--retention-visitors=N; --full: 1M)
 *   --rate=N                           load rate in requests/s (default: 70% of the measured Node ingest rate)
 *   --template=ID                      ingest: the Node collector under the default model and under a stage template
 *                                      (collector/core/stages.ts STAGE_TEMPLATES), on traffic its rules act on
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { benchIngest, CONNECTIONS, type IngestRow } from './ingest';
import { benchLoad } from './load';
import { benchPageCost } from './page-cost';
import { benchQueries } from './queries';
import { benchRetention } from './retention';
import { benchQueue } from './queue';
import { RETENTION_CHUNK } from '../collector/core/retention';
import { benchExpiry } from './expiry';
import { benchSizes } from './sizes';
import { ROOT } from './lib/collector-process';
import { CHROMIUM } from '../test/browser/chromium';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const full = flag('full');
const only = value('only')?.split(',');
const want = (s: string) => !only || only.includes(s);
const write = flag('write') || (!quick && !only);

const log = (s: string) => process.stderr.write(s + '\n');
const kb = (n: number) => n.toLocaleString('en');
const x = (n: number, digits = 1) => (Number.isFinite(n) ? `${n.toFixed(digits)}×` : '–');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

const machine = () => {
  const sh = (cmd: string, a: string[]) => {
    try {
      return execFileSync(cmd, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  };
  const db = new Database(':memory:');
  const sqlite = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  db.close();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    ram: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    sqlite,
    chromium: sh(CHROMIUM, ['--version']),
    commit: sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    load: loadavg()
      .map((l) => l.toFixed(1))
      .join(' '),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
};

const main = async () => {
  const m = machine();
  const started = Date.now();
  const command = `npm run bench${args.length ? ' -- ' + args.join(' ') : ''}`;
  log(`cjm bench: ${m.cpu}, ${m.cores} cores, ${m.ram}, Node ${m.node}; load average ${m.load}`);
  const out: string[] = [];

  if (want('sizes')) {
    log('\n# Tag sizes');
    const sizes = await benchSizes();
    const ours = sizes.rows[0]!;
    const rows = sizes.rows.map((r) => [
      `${r.name} ${r.version}`,
      `\`${r.file}\``,
      kb(r.raw),
      kb(r.min),
      kb(r.gzip),
      kb(r.brotli),
      r === ours ? '1.0×' : x(r.gzip / ours.gzip),
    ]);
    const t = table(['tracker', 'file', 'published B', 'minified B', 'gzip -9 B', 'brotli B', 'gzip vs cjm.js'], rows);
    log(t);
    out.push(`## Tag size beside the alternatives

Published npm packages installed in this run (\`npm install --prefix bench/.cache --no-save\`). Each file is the
package's browser bundle (which one, and why, below), minified again by terser (compress + mangle) so an unminified
build is not penalised; our tag is measured exactly as \`npm run build\` emits it. Sizes in bytes.

${t}

${sizes.rows.map((r) => `- ${r.name}: \`${r.file}\`, ${r.note}.`).join('\n')}
${sizes.failed.length ? `\nNot measured: ${sizes.failed.join('; ')}.\n` : ''}`);
  }

  if (want('page')) {
    log('\n# Tag cost on the page (Chromium)');
    const page = await benchPageCost(quick ? 5 : 25);
    if (!page) out.push('## The tag’s cost on the page\n\nNot measured: Chromium is missing.\n');
    else {
      const t = table(
        ['page', 'script ms (median)', 'all tasks ms (median)'],
        [
          ['without the tag', ms(page.scriptWithout), ms(page.taskWithout)],
          ['with cjm.js (load, init, page view sent)', ms(page.scriptWith), ms(page.taskWith)],
          ['difference', ms(page.scriptWith - page.scriptWithout), ms(page.taskWith - page.taskWithout)],
          ...(page.plausible
            ? [
                [
                  `with @plausible-analytics/tracker ${page.plausible.version} (import, init, page view sent)`,
                  ms(page.plausible.script),
                  ms(page.plausible.task),
                ],
              ]
            : []),
        ],
      );
      log(t);
      out.push(`## The tag’s cost on the page

Headless Chromium (${m.chromium}), ${page.runs} runs of each page, alternating, a fresh context each. Main-thread
time from CDP \`Performance.getMetrics\` (\`ScriptDuration\`, \`TaskDuration\`) read after the page view reached
\`/collect\` (a stub answering 202 on the same 127.0.0.1 server; median ${ms(page.sentAfter)} ms after navigation,
which is the tag's 1-second batching delay). The page without the tag waits as long before its metrics are read.
\`TaskDuration\` includes parsing, style and layout of the page and is noisy on a shared machine; the script row
is the tag's own cost.${page.plausible ? ` For scale, the same page with Plausible's npm tracker (served from bench/.cache, imported as a module, \`init()\` sending its page view to the same stub; sent after ${ms(page.plausible.sentAfter)} ms) is measured in the same runs: cjm.js script time is ${x(page.scriptWith / page.plausible.script, 2)} Plausible's.` : ''}

${t}
`);
    }
  }

  let ingest: { rows: IngestRow[]; workerError?: string } | null = null;
  if (want('ingest')) {
    log('\n# Ingest');
    const secs = quick ? 3 : 10;
    const template = value('template');
    ingest = await benchIngest(secs, log, !flag('no-worker'), template);
    if (template) {
      for (const events of [1, 10]) {
        const node = ingest.rows.filter((r) => r.target.startsWith('Node') && r.events === events);
        if (node.length === 2)
          log(
            `  ${events}-event batches: template ${template} / default model = ${x(node[1]!.result.rps / node[0]!.result.rps, 3)}`,
          );
      }
    }
    const bare = (events: number) =>
      ingest!.rows.find((r) => r.target.startsWith('bare') && r.events === events)!.result;
    const t = table(
      [
        'server',
        'batch',
        'requests/s',
        'events/s',
        'p50 ms',
        'p99 ms',
        'req/s vs bare',
        'non-2xx',
        'timeline ms',
        'CPU µs/event',
        'per commit p50/p99: requests (events)',
      ],
      ingest.rows.map((r) => [
        r.target,
        `${r.events} ev`,
        kb(Math.round(r.result.rps)),
        kb(Math.round(r.result.rps * r.events)),
        r.result.p50,
        r.result.p99,
        x(r.result.rps / bare(r.events).rps, 3),
        r.result.non2xx + r.result.errors,
        r.timelineMs === undefined ? '—' : ms(r.timelineMs),
        r.cpuUsPerEvent === undefined ? '—' : Math.round(r.cpuUsPerEvent),
        r.commit
          ? `${r.commit.requests[0]}/${r.commit.requests[1]} (${r.commit.events[0]}/${r.commit.events[1]})`
          : '—',
      ]),
    );
    log(t);
    out.push(`## Collector ingest

\`autocannon\` on 127.0.0.1, ${CONNECTIONS} connections, ${secs} s per row, \`POST /collect\` with new events in every request (unique
ids: every request is a committed write, none is a duplicate), five batches per visitor. The Node collector runs
as \`npm start\` does (child process, SQLite file in WAL mode, \`synchronous=NORMAL\`, 202 only after the commit),
with \`CJM_TRUST_PROXY=1\` and \`X-Forwarded-For\` spread over 20,000 addresses so the per-IP rate limit (20/s per
address) does not answer 429. The bare server is \`node:http\` reading the body and answering 204 to the same
requests, measured in the same run. The Worker is collector/worker.ts on workerd with a local D1
(\`scripts/worker.ts\`, wrangler's \`unstable_startWorker\`); it rate-limits per \`CF-Connecting-IP\`, which the bench spreads the same way. autocannon runs on the same
two cores as the servers. After each run, \`timeline ms\` is the median time to read one visitor's timeline
(\`GET /api/sites/demo/visitors/:visitor\`, 30 visitors of the run) on the database that run filled, the same
requests on Node and on the Worker. The Node collector commits in groups (collector/core/batcher.ts: what arrived
during one commit goes into the next, 202 after its commit): \`CPU µs/event\` is the collector process's user +
system CPU time (/proc) during the run divided by the events it took, and the last column how many requests (and
events) one commit held, from \`CJM_BATCH_STATS\`.

${t}
${ingest.workerError ? `\nThe Worker could not be measured: ${ingest.workerError}\n` : ''}`);
  }

  if (want('queue')) {
    log('\n# Worker with the ingest queue');
    const secs = quick ? 3 : 10;
    const q = await benchQueue(secs, log);
    const t1 = table(
      ['run', 'requests/s', 'p50 ms', 'p99 ms', 'non-2xx'],
      [
        [
          'producer alone (no consumer: the local broker discards)',
          kb(Math.round(q.producer.rps)),
          q.producer.p50,
          q.producer.p99,
          q.producer.non2xx + q.producer.errors,
        ],
        [
          'producer and consumer in one workerd',
          kb(Math.round(q.accepted.rps)),
          q.accepted.p50,
          q.accepted.p99,
          q.accepted.non2xx + q.accepted.errors,
        ],
      ],
    );
    const t2 = table(
      ['background req/s (achieved)', 'probes seen', 'lag p50 ms', 'lag p99 ms', 'lag max ms'],
      q.lag.map((l) => [
        l.background ? `${kb(l.background)} (${kb(Math.round(l.achieved))})` : 'none',
        `${l.seen}/${l.probes}`,
        Math.round(l.p50),
        Math.round(l.p99),
        Math.round(l.max),
      ]),
    );
    const t3 = table(
      ['path', 'D1 reads per event', 'D1 commits per event'],
      [
        ['direct (no `INGEST` binding)', q.queries.direct.reads.toFixed(2), q.queries.direct.commits.toFixed(2)],
        ['queued (producer + consumer)', q.queries.queued.reads.toFixed(2), q.queries.queued.commits.toFixed(2)],
      ],
    );
    log(t1);
    log(t2);
    log(t3);
    out.push(`## Worker ingest through the queue

collector/worker.ts on workerd with a local D1 and wrangler.toml's \`INGEST\` queue (miniflare's local broker: one
consumer batch at a time, up to 100 messages or 1 s). autocannon as above (10 connections, ${q.seconds} s, spread
\`CF-Connecting-IP\`), \`POST /collect\` with 1-event batches answered \`202 {"accepted":1,"duplicates":0,"queued":true}\`
once the queue has them. First the producer alone (the binding without a consumer: what each edge isolate does per
request), then producer and consumer sharing one local workerd, as \`npm run dev:worker\` runs them (on Cloudflare
they are separate invocations). The consumer stored the second run's ${kb(q.acceptedEvents)} events in
${q.drainSeconds.toFixed(1)} s from the start of the run: ${kb(Math.round(q.drainEventsPerSec))} events/s.

${t1}

Lag from a 202 to the event being visible: 10 probe requests a second for ${q.seconds} s (a new visitor each), alone and beside
background traffic at half the drain rate; one visitors-list read (\`?q=<probe prefix>\`) per 100 ms tick, so
figures are up to one tick late.

${t2}

D1 round trips per event on the same 500 requests (1 event each, five per visitor), counted at the connector, as
/collect and the consumer run them in-process on a local D1: the direct path reads the site and ingests each
request; the queued path reads the site per request and ingests batches of 100 messages with \`ingestBatch\`.

${t3}
`);
  }

  if (want('queries')) {
    const visitors = quick ? [500, 2_000, 5_000] : [1_000, 10_000, 100_000];
    if (full) visitors.push(1_000_000);
    log(`\n# Queries at ${visitors.map((v) => kb(v)).join(' / ')} visitors (about 10 events each)`);
    const queries = await benchQueries(visitors, log);
    const q0 = queries[0]!;
    const t1 = table(
      ['visitors', 'events', 'timeline', 'visitors list', 'list, stage filter', 'funnel', 'journey map', 'bytes/event'],
      queries.map((q) => [
        kb(q.visitors),
        kb(q.events),
        ms(q.timeline),
        ms(q.visitorsList),
        ms(q.visitorsFiltered),
        ms(q.funnel),
        ms(q.journeyMap),
        Math.round(q.bytesPerEvent),
      ]),
    );
    const t2 = table(
      [
        'visitors',
        'events',
        'ingest ev/s',
        'batch p50 ms',
        'batch p99 ms',
        'timeline',
        'visitors list',
        'funnel',
        'journey map',
      ],
      queries.map((q) => [
        kb(q.visitors),
        kb(q.events),
        kb(Math.round(q.ingestRate)),
        ms(q.ingestP50),
        ms(q.ingestP99),
        x(q.timeline / q0.timeline),
        x(q.visitorsList / q0.visitorsList),
        x(q.funnel / q0.funnel),
        x(q.journeyMap / q0.journeyMap),
      ]),
    );
    log(t1);
    log(t2);
    out.push(`## Query latency

A SQLite file filled through the real ingest path (\`ingest()\`: dedup check, fold, one atomic \`commit\` per batch),
one batch per session as the tag sends them, from deterministic synthetic shop traffic (bench/lib/traffic.ts: about
10 events per visitor over 1–3 sessions, channels from UTM and referrers, drop-off along the five default stages,
some identify, feedback and vitals) spread over 25 days. Reads go through the API (\`app.request()\` with the admin
token, JSON included): a visitor's timeline (\`/visitors/:id\`, median of 40 visitors spread over the database),
the visitors list (\`?limit=50\`, and with \`&stage=\`), the funnel and the journey map over all time (median of 3).
Bytes per event: the database file after a WAL checkpoint, divided by the events stored (journeys, stages and
indexes included). Milliseconds, medians.

${t1}

${
  full
    ? ''
    : `10M events / 1M visitors was not run: generation through the real ingest path runs at about
${kb(Math.round(queries[queries.length - 1]!.generateRate))} events/s on this machine, so 10M events would take
${(1e7 / queries[queries.length - 1]!.generateRate / 3600).toFixed(1)} hours or more. \`npm run bench -- --full\` adds it.
`
}
### How costs grow

The same database at each size: ingest of 300 new visitors (events/s and per-batch latency), and each query's
latency as a multiple of its latency at the smallest size (1.0× = flat).

${t2}
`);
  }

  if (want('retention')) {
    const n = quick ? 20_000 : 1_000_000;
    log(`\n# Cohort retention and lifecycle numbers at ${kb(n)} visitors`);
    const f = await benchRetention(n, log);
    const t = table(
      [
        'visitors',
        'retention, all cohorts',
        'retention, 90 days',
        'lifecycle, all',
        'lifecycle, partial days',
        'rollup rows',
      ],
      [
        [
          kb(f.visitors),
          ms(f.retentionAll),
          ms(f.retention90d),
          ms(f.lifecycleAll),
          ms(f.lifecycleEdges),
          `${kb(f.retentionRows)} + ${kb(f.lifecycleRows)}`,
        ],
      ],
    );
    log(t);
    out.push(`## Cohort retention and lifecycle numbers

\`bench/retention.ts\`: a SQLite file with ${kb(f.visitors)} journeys of the \`post-purchase\` template (first visits over
26 weeks, one to six sessions, a third buying, two fifths of those again), holding the rows ingest would write for
them (each journey's row, and the rollup sums of \`contributions\`), built in bulk (${f.buildSeconds.toFixed(0)} s). Times in ms,
median of 20, through the store as the API calls it: \`GET /api/sites/:site/retention\` (12 weeks) over every cohort
and over the last 90 days, the journey map's lifecycle numbers over all time and over a range with partial first
and last days (read from the journeys of those days). Rollup rows: \`cohort_retention\` + \`cohort_lifecycle\`.

${t}
`);
  }

  if (want('load')) {
    const nodeRow = ingest?.rows.find((r) => r.target.startsWith('Node') && r.events === 10);
    const rate = Number(value('rate') ?? (nodeRow ? Math.max(5, Math.floor(nodeRow.result.rps * 0.7)) : 50));
    const seconds = quick ? 20 : 60;
    log(`\n# Load: ${rate} req/s of 10-event batches for ${seconds} s`);
    const load = await benchLoad(rate, seconds);
    const t = table(
      ['', 'first 10 s', 'last 10 s'],
      [
        ['p50 ms', load.p50First, load.p50Last],
        ['p99 ms', load.p99First, load.p99Last],
        ['collector RSS MiB', (load.rssStart / 2 ** 20).toFixed(0), (load.rssEnd / 2 ** 20).toFixed(0)],
      ],
    );
    log(t);
    log(
      `  p99 per 10 s: ${load.windows.join(', ')} ms; RSS max ${(load.rssMax / 2 ** 20).toFixed(0)} MiB; ${load.non2xx} non-2xx, ${load.errors} errors`,
    );
    out.push(`## Sustained load

The Node collector (child process, new SQLite file) at a fixed ${load.rate} requests/s of 10-event batches for
${load.seconds} s (${nodeRow ? '70% of the rate measured above' : 'the rate given'}; ${kb(Math.round(load.achieved))} req/s achieved,
about ${kb(load.events)} events committed, ${load.non2xx} non-2xx, ${load.errors} errors). Latency per response,
grouped in 10-second windows; resident memory of the collector process sampled every second.

${t}

p99 per 10-second window: ${load.windows.map((w) => `${w} ms`).join(', ')}; last window ÷ first: ${x(load.p99Last / load.p99First, 2)}.
Highest RSS: ${(load.rssMax / 2 ** 20).toFixed(0)} MiB (${(load.rssStart / 2 ** 20).toFixed(0)} MiB at the start, ${(load.rssEnd / 2 ** 20).toFixed(0)} MiB at the end).
`);
  }

  if (want('expiry')) {
    // 1M visitors through the real ingest path takes over an hour here (see the queries section); 100k by default.
    const visitors = Number(value('retention-visitors') ?? (quick ? 5_000 : full ? 1_000_000 : 100_000));
    log(`\n# Retention pass on ${kb(visitors)} visitors (about 10 events each, over 60 days; retention 30 days)`);
    const r = await benchExpiry(visitors, log);
    const t = table(
      [
        'visitors',
        'events',
        'expired journeys',
        'events deleted',
        'chunks',
        'chunk p50 ms',
        'chunk p99 ms',
        'chunk max ms',
        'write p99 ms',
        'write max ms',
        'checkpoint p99 ms',
        'pass s',
      ],
      [
        [
          kb(r.visitors),
          kb(r.events),
          kb(r.expiredJourneys),
          kb(r.expiredEvents),
          kb(r.chunks),
          ms(r.chunkP50),
          ms(r.chunkP99),
          ms(r.chunkMax),
          ms(r.writeP99),
          ms(r.writeMax),
          ms(r.checkpointP99),
          r.totalSeconds.toFixed(1),
        ],
      ],
    );
    const t2 = table(
      ['ingest of new visitors', 'events/s', 'batch p99 ms'],
      [
        ['alone', kb(Math.round(r.ingestAlone)), ms(r.ingestP99Alone)],
        ['while the pass runs', kb(Math.round(r.ingestDuring)), ms(r.ingestP99During)],
      ],
    );
    log(t);
    log(t2);
    out.push(`## Retention pass

A SQLite file of ${kb(r.visitors)} visitors (${kb(r.events)} events, ${(r.bytes / 2 ** 20).toFixed(0)} MiB) spread over 60 days,
with \`retentionDays: 30\`: the pass (core/retention.ts, as the Node timer runs it: chunks of at most
${RETENTION_CHUNK.journeys} journeys / ${kb(RETENTION_CHUNK.events)} events, the event loop free between them) deletes the journeys last
active more than 30 days ago. A chunk's time is its reads and its one write transaction ("write": that
transaction alone); between chunks the Node collector runs a passive WAL checkpoint (outside any transaction, so
the pages a chunk zeroed are not copied inside the next commit) and waits as long as the chunk took
(\`retentionPause\` in collector/node.ts). New visitors are ingested beside it (one batch per session), and alone
before it for comparison.

${t}

${t2}
`);
  }

  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  if (write && only) {
    // Some sections: replace those of docs/benchmarks.md (by heading), keep the others as they were measured.
    const file = join(ROOT, 'docs', 'benchmarks.md');
    const existing = readFileSync(file, 'utf8');
    const parts = existing.split(/^(?=## )/m);
    const head = parts[0] ?? '';
    const sections = new Map(parts.slice(1).map((p) => [p.split('\n')[0] as string, p]));
    const stamp = `_This section: \`${command}\`, ${m.date}, commit ${m.commit}, load average ${m.load} at start._\n\n`;
    for (const section of out) {
      const [title, ...rest] = section.split('\n');
      sections.set(title as string, `${title}\n\n${stamp}${rest.join('\n').replace(/^\n+/, '')}\n`);
    }
    writeFileSync(
      file,
      head +
        [...sections.values()]
          .map((p) => p.replace(/\n*$/, '\n\n'))
          .join('')
          .replace(/\n+$/, '\n'),
    );
    log(`\nreplaced ${out.length} section(s) of docs/benchmarks.md (${minutes} min)`);
  } else if (write) {
    const doc = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts); every number below comes from one run of that command. Reproduce it with:

\`\`\`sh
${command}
\`\`\`

| machine | |
|---|---|
| CPU | ${m.cpu}, ${m.cores} cores |
| RAM | ${m.ram} |
| Node | ${m.node} |
| SQLite | ${m.sqlite} (better-sqlite3) |
| Chromium | ${m.chromium} |
| commit | ${m.commit} |
| date | ${m.date} |
| load average at start | ${m.load} |
| duration | ${minutes} min |

The machine is shared: other work was running at the same time (see the load average), so absolute figures are
lower and noisier than on an idle machine. Ratios against baselines measured in the same run (a bare \`node:http\`
server, a page without the tag, the smallest database) are the figures to compare.

${out.join('\n')}`;
    writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), doc);
    log(`\nwrote docs/benchmarks.md (${minutes} min)`);
  } else {
    log(`\n(docs/benchmarks.md not written: partial or --quick run; ${minutes} min)`);
  }
};

await main();
