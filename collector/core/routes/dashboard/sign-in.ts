/**
 * Signing in to the dashboard with the admin token and out again. A signed, HttpOnly, SameSite=Strict session cookie
 * (dashboard/auth.ts); guessing the token is slowed to one try every 5 s per address after ten.
 */
import { Hono } from 'hono';
import { endSession, hasSession, startSession } from '../../dashboard/auth';
import { loginPage } from '../../dashboard/layout';
import { safeEqual, type AppOptions } from '../../http';
import { createRateLimiter } from '../../limits';
import type { DashboardEnv } from './assets';
import { str } from './page';

/** A local path to return to after sign-in; anything else (other hosts, `//evil`, `/\evil`) becomes `/`. */
export const safeNext = (next: unknown): string =>
  typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) && next.length <= 2000 ? next : '/';

export const signInRoutes = (options: Pick<AppOptions, 'getAdminToken' | 'clientIp'>) => {
  const r = new Hono<DashboardEnv>();
  // Guessing the admin token: at most 10 tries at once per address, then one every 5 s.
  const signIns = createRateLimiter({ burst: 10, perSecond: 0.2, maxKeys: 10_000 });

  r.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    if (await hasSession(c, await options.getAdminToken(c), c.var.now())) return c.redirect(next, 303);
    return c.html(loginPage(null, next, c.var.assets));
  });

  r.post('/login', async (c) => {
    const body = await c.req.parseBody();
    const next = safeNext(body.next);
    const wait = signIns(options.clientIp?.(c) || 'unknown', c.var.now());
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      const message = `Too many sign-in attempts from this address; try again in ${wait} s.`;
      return c.html(loginPage(message, next, c.var.assets), 429);
    }
    const token = await options.getAdminToken(c);
    if (!safeEqual(str(body.token).trim(), token)) {
      return c.html(loginPage('That is not the admin token of this collector.', next, c.var.assets), 401);
    }
    await startSession(c, token, c.var.now());
    return c.redirect(next, 303);
  });

  r.post('/logout', (c) => {
    endSession(c);
    return c.redirect('/login', 303);
  });
  return r;
};
