/**
 * The tag's cost on the page, in headless Chromium: main-thread script and task time (CDP Performance.getMetrics:
 * ScriptDuration, TaskDuration) of a page that loads the tag, initialises it and sends its page view, beside the
 * same page without the tag. Pages and a stub `/collect` (202) are served by a node:http server on 127.0.0.1, so
 * the collector's own work is not counted. Alternating runs, a fresh browser context each; medians reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { hasChromium, launch } from '../test/browser/chromium';
import { ROOT } from './lib/collector-process';

export interface PageCost {
  runs: number;
  /** The same measures for Plausible's npm tracker (init + automatic page view), when installed in bench/.cache. */
  plausible: { version: string; script: number; task: number; sentAfter: number } | null;
  /** Median ms of main-thread script execution. */
  scriptWith: number;
  scriptWithout: number;
  taskWith: number;
  taskWithout: number;
  /** Median ms from navigation start to the page view's arrival at /collect. */
  sentAfter: number;
}

type Kind = 'with' | 'without' | 'plausible';
const HEAD: Record<Kind, string> = {
  with: '<script async src="/cjm.js" data-site="demo" data-api="/collect"></script>',
  without: '',
  plausible: `<script type="module">import { init } from '/plausible.js'; init({ domain: 'shop.test', endpoint: '/collect', captureOnLocalhost: true });</script>`,
};
const PAGE = (kind: Kind) => `<!doctype html><html><head><meta charset="utf-8"><title>Product · shop</title>
${HEAD[kind]}
</head><body><h1>Enamel mug</h1><p>${'A sturdy mug for your coffee. '.repeat(40)}</p>
<a href="/cart" data-cjm-event="add_to_cart">Add to cart</a></body></html>`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

export const benchPageCost = async (runs = 25): Promise<PageCost | null> => {
  if (!hasChromium()) return null;
  const tagJs = readFileSync(join(ROOT, 'dist', 'cjm.js'));
  const plausibleDir = join(ROOT, 'bench', '.cache', 'node_modules', '@plausible-analytics', 'tracker');
  const plausible = existsSync(join(plausibleDir, 'plausible.js'))
    ? {
        js: readFileSync(join(plausibleDir, 'plausible.js')),
        version: (JSON.parse(readFileSync(join(plausibleDir, 'package.json'), 'utf8')) as { version: string }).version,
      }
    : null;
  let arrived: ((t: number) => void) | null = null;
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/collect') {
      req.resume();
      req.on('end', () => {
        arrived?.(Date.now());
        res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"accepted":1,"duplicates":0}');
      });
      return;
    }
    if (req.url === '/cjm.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(tagJs);
    if (req.url === '/plausible.js' && plausible)
      return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(plausible.js);
    const kind = (req.url ?? '/').slice(1) as Kind;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE(kind in HEAD ? kind : 'without'));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launch();
  const script: Record<Kind, number[]> = { with: [], without: [], plausible: [] };
  const task: Record<Kind, number[]> = { with: [], without: [], plausible: [] };
  const sent: Record<Kind, number[]> = { with: [], without: [], plausible: [] };
  const kinds: Kind[] = plausible ? ['with', 'without', 'plausible'] : ['with', 'without'];
  try {
    for (let i = 0; i < runs * kinds.length; i++) {
      const kind = kinds[i % kinds.length]!;
      const context = await browser.newContext();
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const got = new Promise<number>((ok) => (arrived = ok));
      const start = Date.now();
      await page.goto(`${base}/${kind}`, { waitUntil: 'load' });
      if (kind !== 'without') {
        const at = await Promise.race([got, new Promise<number>((ok) => setTimeout(() => ok(-1), 10_000))]);
        if (at < 0) throw new Error(`[cjm bench] ${kind}: no page view sent within 10 s`);
        sent[kind].push(at - start);
      } else {
        await new Promise((ok) => setTimeout(ok, 1100)); // as long as the tag's batching delay: same idle time
      }
      const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
      const m = (name: string) => (metrics.find((x) => x.name === name)?.value ?? 0) * 1000;
      script[kind].push(m('ScriptDuration'));
      task[kind].push(m('TaskDuration'));
      arrived = null;
      await context.close();
    }
  } finally {
    await browser.close();
    await new Promise<void>((ok) => server.close(() => ok()));
  }
  return {
    runs,
    scriptWith: median(script.with),
    scriptWithout: median(script.without),
    taskWith: median(task.with),
    taskWithout: median(task.without),
    sentAfter: median(sent.with),
    plausible: plausible
      ? {
          version: plausible.version,
          script: median(script.plausible),
          task: median(task.plausible),
          sentAfter: median(sent.plausible),
        }
      : null,
  };
};
