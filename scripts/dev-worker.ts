/**
 * `npm run dev:worker`: the collector as a Cloudflare Worker on a local workerd with a local D1, the way `npm start`
 * runs it on Node: same demo site, same admin-token behaviour, same banner.
 *
 * 1. assembles the static assets (the tag is built by `npm run build` first, in the npm script);
 * 2. applies collector/migrations to the local D1 with `wrangler d1 migrations apply DB --local`;
 * 3. resolves the admin token (`CJM_ADMIN_TOKEN`, else the one kept in D1, generated on first start) and creates the
 *    demo site, with the same code the Worker runs (core/bootstrap.ts), and prints where everything is;
 * 4. runs `wrangler dev` on `PORT` (default 8787) and `HOST` (default 127.0.0.1), with wrangler.toml's `INGEST` queue
 *    local (miniflare's queue broker, in memory): /collect and /v1/* answer once queued, `queue()` stores each batch.
 *
 * Local D1 state lives in .wrangler/state (`CJM_WORKER_STATE` overrides), the folder `wrangler dev` uses.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ensureDemoSite, resolveAdminToken } from '../collector/core/bootstrap';
import { createD1Store } from '../collector/stores/d1';
import { ROOT, assembleAssets, openLocalD1 } from './worker';

const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const env = process.env;
const port = env.PORT ? Number(env.PORT) : 8787;
const host = env.HOST ?? '127.0.0.1';
const state = resolve(env.CJM_WORKER_STATE ?? join(ROOT, '.wrangler', 'state'));
const fromEnv = env.CJM_ADMIN_TOKEN || undefined;
const childEnv = { ...env, WRANGLER_SEND_METRICS: env.WRANGLER_SEND_METRICS ?? 'false' };

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`[cjm] PORT must be a port number, not "${env.PORT}"`);
  process.exit(1);
}

assembleAssets();

// The migrations, exactly as on Cloudflare (`--remote` there). CI=true: no confirmation prompt.
const migrate = spawnSync(
  process.execPath,
  [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state],
  {
    cwd: ROOT,
    env: { ...childEnv, CI: 'true' },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
if (migrate.status !== 0) {
  console.error('[cjm] wrangler d1 migrations apply DB --local failed (see above)');
  process.exit(migrate.status ?? 1);
}

// The same start-up as the Worker's first request (and as npm start): token and demo site, in the same local D1.
const d1 = await openLocalD1(state);
const token = await resolveAdminToken(createD1Store(d1.db), fromEnv);
await ensureDemoSite(createD1Store(d1.db));
await d1.dispose();

const shown = host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host;
const url = `http://${shown}:${port}`;
console.log(`cjm collector (Cloudflare Worker on local workerd) starting on ${url}  (local D1 in ${state})
  demo shop   ${url}/demo/
  the tag     ${url}/cjm.js
  API         ${url}/api/sites/demo/visitors
  ingest      through the local queue cjm-ingest (batches of up to 100, within 1 s; docs/scaling.md)
  admin token ${token}${fromEnv ? '  (from CJM_ADMIN_TOKEN)' : ''}
  try:        curl -H "Authorization: Bearer ${token}" ${url}/api/sites/demo/visitors`);

const args = [WRANGLER, 'dev', '--port', String(port), '--ip', host, '--persist-to', state];
// Given in the environment, the token is the Worker's var (as `wrangler secret put` makes it on Cloudflare).
if (fromEnv) args.push('--var', `CJM_ADMIN_TOKEN:${fromEnv}`);
const dev = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => dev.kill(signal));
dev.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
