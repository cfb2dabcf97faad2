/**
 * The dashboard, served by the collector at `/` on Node and Workers: sign-in with the admin token, then per site the
 * journey map, the funnel, the visitors list, one visitor's timeline, and the site's settings.
 *
 * Pages are rendered on the server from the same report functions and Store methods the API uses (core/reports.ts),
 * a few queries per page. Security: a signed, HttpOnly, SameSite=Strict session cookie (core/dashboard/auth.ts);
 * hono/csrf on every form post; a strict Content-Security-Policy (no inline script or style: the built stylesheet and
 * script come from `/assets/*`, core/dashboard/assets.ts); every browser-originated string escaped by hono/jsx.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv, AppOptions } from '../app';
import { newRuleId, parseRule, RuleError, type Rule } from '../automation/rules';
import { getAutomationSettings } from '../automation/settings';
import { checkWebhookUrl, UnsafeUrlError } from '../automation/urls';
import { CHANNELS } from '../channels';
import { createRateLimiter } from '../limits';
import { dashboardAsset, dashboardAssets, FAVICON_SVG } from '../dashboard/assets';
import { endSession, hasSession, startSession } from '../dashboard/auth';
import { h, nothing, type Html } from '../dashboard/format';
import {
  emptyState,
  loginPage,
  noSitesPage,
  pageHead,
  rangePicker,
  shell,
  sitePath,
  unknownSitePage,
  type Tab,
} from '../dashboard/layout';
import { funnelPage } from '../dashboard/pages/funnel';
import { mapPage } from '../dashboard/pages/map';
import { settingsPage, type SettingsData } from '../dashboard/pages/settings';
import { timelinePage } from '../dashboard/pages/timeline';
import { visitorsPage, type VisitorFilters } from '../dashboard/pages/visitors';
import { parseRange, type Range } from '../dashboard/range';
import { funnel, journeyMap, touches, visitorDetail } from '../reports';
import { checkSitePatch, eraseVisitor, saveSite, SiteInputError } from '../sites';
import type { SiteConfig, StageDef } from '../stages';
import { BadCursorError, type Store, type VisitorQuery, type VisitorSummary } from '../store';
import { safeEqual } from './api';

/** The Content-Security-Policy of every dashboard response: nothing inline, nothing from elsewhere. */
export const DASHBOARD_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** The store, with `stageAggregates` answered once per (site, range) for the lifetime of this wrapper (one page). */
const onceAggregates = (store: Store): Store => {
  const seen = new Map<string, ReturnType<Store['stageAggregates']>>();
  const wrapped = Object.create(store) as Store;
  wrapped.stageAggregates = (site, range) => {
    const key = JSON.stringify([site, range.from ?? null, range.to ?? null]);
    let answer = seen.get(key);
    if (!answer) seen.set(key, (answer = store.stageAggregates(site, range)));
    return answer;
  };
  return wrapped;
};

const TABS: readonly Tab[] = ['map', 'funnel', 'visitors', 'settings'];

/** A local path to return to after sign-in; anything else (other hosts, `//evil`, `/\evil`) becomes `/`. */
export const safeNext = (next: unknown): string =>
  typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) && next.length <= 2000 ? next : '/';

const str = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
const lines = (s: string) =>
  s
    .split(/\r?\n/)
    .map((x) => x.trim())
    .filter(Boolean);

const flashOf = (c: Context): Html => {
  const q = c.req.query();
  const msgs: Record<string, string> = {
    saved: 'Saved.',
    stages: 'Stages saved. Journeys are being refolded under the new model.',
    revoked: 'The write key is revoked.',
    'rule-deleted': 'The rule is deleted.',
    'rule-toggled': 'The rule is updated.',
    'rule-created': 'The rule is created.',
  };
  if (q.erased !== undefined) {
    const n = Number(q.erased);
    return h`<div class="flash" role="status">The visitor is erased${Number.isFinite(n) ? ` (${n} events)` : ''}.</div>`;
  }
  const m = q.done ? msgs[q.done] : undefined;
  return m ? h`<div class="flash" role="status">${m}</div>` : nothing;
};

export const dashboardRoutes = (options: Pick<AppOptions, 'getAdminToken' | 'clientIp' | 'asset'>) => {
  const r = new Hono<AppEnv>();
  // Guessing the admin token: at most 10 tries at once per address, then one every 5 s.
  const signIns = createRateLimiter({ burst: 10, perSecond: 0.2, maxKeys: 10_000 });

  const headers = secureHeaders({
    contentSecurityPolicy: DASHBOARD_CSP,
    referrerPolicy: 'same-origin',
    xFrameOptions: 'DENY',
  });
  const noStore: MiddlewareHandler<AppEnv> = async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
  const auth: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (await hasSession(c, await options.getAdminToken(c), c.get('now')())) return next();
    const url = new URL(c.req.url);
    return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
  };
  for (const path of ['/', '/login', '/logout', '/go', '/sites/*', '/assets/*']) r.use(path, headers);
  for (const path of ['/', '/login', '/logout', '/go', '/sites/*']) r.use(path, noStore, csrf());
  for (const path of ['/', '/go', '/sites/*']) r.use(path, auth);

  // ----- assets -----
  /** The built stylesheet's and script's URL paths, for the pages' <head> (read from the runtime's static files). */
  const assetsOf = (c: Context<AppEnv>) => dashboardAssets((path) => options.asset(path, c));

  r.get('/assets/favicon.svg', (c) => {
    c.header('Content-Type', 'image/svg+xml');
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(FAVICON_SVG);
  });
  // The built stylesheet and script: `dashboard.<hash>.css|js` cached for a year, `dashboard.css|js` revalidated.
  r.get('/assets/:file', async (c, next) => {
    const res = await dashboardAsset(c.req.param('file'), (path) => options.asset(path, c));
    return res ?? next();
  });

  // ----- sign-in -----
  r.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    if (await hasSession(c, await options.getAdminToken(c), c.get('now')())) return c.redirect(next, 303);
    return c.html(loginPage(null, next, await assetsOf(c)));
  });
  r.post('/login', async (c) => {
    const body = await c.req.parseBody();
    const next = safeNext(body.next);
    const wait = signIns(options.clientIp?.(c) || 'unknown', c.get('now')());
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      const message = `Too many sign-in attempts from this address; try again in ${wait} s.`;
      return c.html(loginPage(message, next, await assetsOf(c)), 429);
    }
    const token = await options.getAdminToken(c);
    if (!safeEqual(str(body.token).trim(), token)) {
      return c.html(loginPage('That is not the admin token of this collector.', next, await assetsOf(c)), 401);
    }
    await startSession(c, token, c.get('now')());
    return c.redirect(next, 303);
  });
  r.post('/logout', (c) => {
    endSession(c);
    return c.redirect('/login', 303);
  });

  // ----- navigation -----
  r.get('/', async (c) => {
    const sites = await c.get('store').listSites();
    const first = sites[0];
    if (!first) return c.html(noSitesPage());
    return c.redirect(sitePath(first.id, 'map'), 303);
  });
  r.get('/go', (c) => {
    const site = c.req.query('site') ?? '';
    const tab = TABS.find((t) => t === c.req.query('tab')) ?? 'map';
    return c.redirect(sitePath(site, tab), 303);
  });

  // ----- per site -----
  interface Page {
    site: SiteConfig;
    sites: SiteConfig[];
    store: Store;
    range: Range;
    now: number;
  }
  const load = async (c: Context<AppEnv>): Promise<Page | Response> => {
    const store = c.get('store');
    const id = c.req.param('site') ?? '';
    const sites = await store.listSites();
    const site = sites.find((s) => s.id === id);
    const now = c.get('now')();
    if (!site) return c.html(unknownSitePage(id, await assetsOf(c)), 404);
    return { site, sites, store, range: parseRange(new URL(c.req.url).searchParams, now), now };
  };
  const render = async (
    c: Context<AppEnv>,
    p: Page,
    tab: Tab | null,
    title: string,
    body: Html,
    opts: { range?: boolean; sub?: Html } = {},
  ) => {
    const path = new URL(c.req.url).pathname;
    const withRange = opts.range ?? true;
    return c.html(
      shell({
        title: `${title} · ${p.site.name}`,
        sites: p.sites,
        site: p.site,
        tab,
        keep: p.range.query,
        assets: await assetsOf(c),
        body: h`${pageHead(
          title,
          opts.sub ?? (withRange ? h`<p class="muted small">${p.range.label} · times in UTC</p>` : nothing),
          withRange ? rangePicker(path, p.range) : null,
        )}${body}`,
      }),
    );
  };
  const dateRange = (range: Range) => ({
    ...(range.from === undefined ? {} : { from: range.from }),
    ...(range.to === undefined ? {} : { to: range.to }),
  });

  r.get('/sites/:site', (c) => c.redirect(sitePath(c.req.param('site'), 'map'), 303));

  r.get('/sites/:site/map', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const range = dateRange(p.range);
    // funnel() and journeyMap() both start from the stage aggregates: read them once for the page.
    const store = onceAggregates(p.store);
    const fun = await funnel(store, p.site, range);
    const map = await journeyMap(store, p.site, range, 8);
    const body =
      map.journeys === 0
        ? emptyState('No journeys started in this range yet.', p.site.id)
        : mapPage(p.site.id, fun, map, p.range.query);
    return render(c, p, 'map', 'Journey map', body, {
      sub: h`<p class="muted small">Journeys that started in the ${p.range.label}, and everything they did since · times in UTC</p>`,
    });
  });

  r.get('/sites/:site/funnel', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const range = dateRange(p.range);
    const [fun, tch] = await Promise.all([funnel(p.store, p.site, range), touches(p.store, p.site, range)]);
    const body =
      fun.journeys === 0 ? emptyState('No journeys started in this range yet.', p.site.id) : funnelPage(fun, tch);
    return render(c, p, 'funnel', 'Funnel', body, {
      sub: h`<p class="muted small">Journeys that started in the ${p.range.label} · times in UTC</p>`,
    });
  });

  r.get('/sites/:site/visitors', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const q = c.req.query();
    const filters: VisitorFilters = {};
    if (q.stage && p.site.stages.some((s) => s.name === q.stage)) filters.stage = q.stage;
    if (q.channel && (CHANNELS as readonly string[]).includes(q.channel)) filters.channel = q.channel;
    if (q.converted === 'true' || q.converted === 'false') filters.converted = q.converted === 'true';
    if (q.q && q.q.trim()) filters.q = q.q.trim().slice(0, 200);
    const query: VisitorQuery = { limit: 50, ...filters, ...dateRange(p.range) };
    if (q.cursor) query.cursor = q.cursor.slice(0, 1000);
    let page: { visitors: VisitorSummary[]; cursor: string | null };
    let flash = flashOf(c);
    try {
      page = await p.store.listVisitors(p.site.id, query);
    } catch (e) {
      if (!(e instanceof BadCursorError)) throw e;
      delete query.cursor;
      page = await p.store.listVisitors(p.site.id, query);
      flash = h`<div class="error">That page link has expired; showing the first page.</div>`;
    }
    const body = visitorsPage({
      site: p.site,
      filters,
      rangeQuery: p.range.query,
      visitors: page.visitors,
      cursor: page.cursor,
      paged: !!query.cursor,
      now: p.now,
      flash,
    });
    return render(c, p, 'visitors', 'Visitors', body, {
      sub: h`<p class="muted small">Active in the ${p.range.label}, newest activity first · times in UTC</p>`,
    });
  });

  r.get('/sites/:site/visitors/:visitor', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const id = c.req.param('visitor');
    const detail = await visitorDetail(p.store, p.site, id);
    if (!detail) {
      c.status(404);
      return render(
        c,
        p,
        'visitors',
        'Visitor not found',
        h`<div class="card empty"><p>No visitor “${id}” on this site (erased, or never seen).</p><p><a href="${sitePath(p.site.id, 'visitors')}">All visitors</a></p></div>`,
        { range: false },
      );
    }
    return render(c, p, 'visitors', 'Visitor timeline', timelinePage(p.site.id, detail), {
      range: false,
      sub: h`<p class="muted small"><a href="${sitePath(p.site.id, 'visitors')}">← all visitors</a> · times in UTC</p>`,
    });
  });

  r.post('/sites/:site/visitors/:visitor/delete', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const id = c.req.param('visitor');
    const erased = await eraseVisitor(p.store, p.site, id, p.now);
    return c.redirect(`${sitePath(p.site.id, 'visitors')}?erased=${erased.events}`, 303);
  });

  // ----- settings -----
  const settingsData = async (
    c: Context<AppEnv>,
    p: Page,
    extra: Partial<SettingsData> = {},
  ): Promise<SettingsData> => {
    const store = p.store;
    const [rules, deliveries, keys] = await Promise.all([
      typeof store.listRules === 'function' ? store.listRules(p.site.id) : null,
      typeof store.listDeliveries === 'function' ? store.listDeliveries(p.site.id, { limit: 20 }) : null,
      typeof store.listWriteKeys === 'function' ? store.listWriteKeys(p.site.id) : null,
    ]);
    return {
      site: p.site,
      collectorUrl: new URL(c.req.url).origin,
      rules,
      deliveries,
      keys,
      now: p.now,
      flash: flashOf(c),
      ...extra,
    };
  };
  const settings = (c: Context<AppEnv>, p: Page, data: SettingsData, status: 200 | 400 = 200) => {
    c.status(status);
    return render(c, p, 'settings', 'Settings', settingsPage(data), {
      range: false,
      sub: h`<p class="muted small">Site <code>${p.site.id}</code></p>`,
    });
  };
  const back = (p: Page, done: string) => `${sitePath(p.site.id, 'settings')}?done=${done}`;

  r.get('/sites/:site/settings', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    return settings(c, p, await settingsData(c, p));
  });

  r.post('/sites/:site/settings/site', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const body = await c.req.parseBody();
    const timeout = str(body.sessionTimeoutMinutes).trim();
    try {
      const patch = checkSitePatch({
        name: str(body.name).trim() || p.site.id,
        origins: lines(str(body.origins)),
        sessionTimeoutMinutes: timeout === '' ? p.site.sessionTimeoutMinutes : Number(timeout),
      });
      await saveSite(p.store, p.site, patch, p.now);
    } catch (e) {
      if (!(e instanceof SiteInputError)) throw e;
      return settings(
        c,
        p,
        await settingsData(c, p, { flash: h`<div class="error" role="alert">${e.message}</div>` }),
        400,
      );
    }
    return c.redirect(back(p, 'saved'), 303);
  });

  r.post('/sites/:site/settings/stages', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const body = await c.req.parseBody({ all: true });
    const names = list(body.stage_name);
    const urls = list(body.stage_urls);
    const events = list(body.stage_events);
    const rows = names
      .map((n, i) => ({ name: n.trim(), urls: urls[i] ?? '', events: events[i] ?? '' }))
      .filter((s) => s.name !== '');
    const stages: StageDef[] = rows.map((s) => {
      const d: StageDef = { name: s.name };
      const u = lines(s.urls);
      const e = lines(s.events);
      if (u.length) d.urls = u;
      if (e.length) d.events = e;
      return d;
    });
    const conversion = str(body.conversion).trim();
    try {
      await saveSite(p.store, p.site, checkSitePatch({ stages, conversion }), p.now);
    } catch (e) {
      if (!(e instanceof SiteInputError)) throw e;
      return settings(
        c,
        p,
        await settingsData(c, p, {
          flash: h`<div class="error" role="alert">${e.message}</div>`,
          draft: { stages: rows, conversion },
        }),
        400,
      );
    }
    return c.redirect(back(p, 'stages'), 303);
  });

  r.post('/sites/:site/settings/keys', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const body = await c.req.parseBody();
    const name = str(body.name).trim().slice(0, 100) || 'key';
    const created = await p.store.createWriteKey(p.site.id, name, p.now);
    return settings(c, p, await settingsData(c, p, { newKey: { name, key: created.key } }));
  });
  r.post('/sites/:site/settings/keys/:id/revoke', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    await p.store.revokeWriteKey(p.site.id, c.req.param('id'), p.now);
    return c.redirect(back(p, 'revoked'), 303);
  });
  r.post('/sites/:site/settings/rules', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const body = await c.req.parseBody({ all: true });
    const type = str(body.type);
    const trigger =
      type === 'stage_entered'
        ? { type, stage: str(body.stage) }
        : type === 'event'
          ? { type, event: str(body.event).trim() }
          : {
              type,
              stages: list(body.stages),
              ...(list(body.notReached).length ? { notReached: list(body.notReached) } : {}),
              after: str(body.after).trim(),
              ...(str(body.idle) === 'true' ? { idle: true } : {}),
              emit: str(body.emit).trim(),
            };
    try {
      const input = parseRule(
        { name: str(body.name).trim(), trigger, action: { type: 'webhook', url: str(body.url).trim() } },
        p.site,
      );
      const { allowPrivateWebhooks } = await getAutomationSettings(p.store, p.site.id);
      checkWebhookUrl(input.action.url, allowPrivateWebhooks);
      const rule: Rule = {
        id: newRuleId(),
        site: p.site.id,
        enabled: true,
        name: input.name,
        trigger: input.trigger,
        action: input.action,
        createdAt: p.now,
        updatedAt: p.now,
      };
      await p.store.putRule(rule);
    } catch (e) {
      if (!(e instanceof RuleError) && !(e instanceof UnsafeUrlError)) throw e;
      return settings(c, p, await settingsData(c, p, { ruleError: e.message }), 400);
    }
    return c.redirect(`${back(p, 'rule-created')}#automation`, 303);
  });
  r.post('/sites/:site/settings/rules/:id/toggle', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    const rule = (await p.store.listRules(p.site.id)).find((x) => x.id === c.req.param('id'));
    if (rule) await p.store.putRule({ ...rule, enabled: !rule.enabled, updatedAt: p.now });
    return c.redirect(back(p, 'rule-toggled'), 303);
  });
  r.post('/sites/:site/settings/rules/:id/delete', async (c) => {
    const p = await load(c);
    if (p instanceof Response) return p;
    await p.store.deleteRule(p.site.id, c.req.param('id'));
    return c.redirect(back(p, 'rule-deleted'), 303);
  });

  return r;
};
