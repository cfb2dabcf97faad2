/**
 * Signing in to the dashboard with the admin token and out again. A signed, HttpOnly, SameSite=Strict session cookie
 * (dashboard/auth.ts). Guesses are limited before the body is even read (the sign-in limiter of core/limits.ts,
 * shared with the API's bearer check): ten tries at once per address, then one every 5 s, under a global ceiling.
 */
import { Hono } from 'hono';
import { endSession, hasSession, startSession } from '../../dashboard/auth';
import { loginPage } from '../../dashboard/layout';
import { formBody, safeEqual, SIGN_IN_BODY_BYTES, type AppOptions } from '../../http';
import type { SignInLimiter } from '../../limits';
import type { DashboardEnv } from './assets';
import { str } from './page';

/** A local path to return to after sign-in; anything else (other hosts, `//evil`, `/\evil`) becomes `/`. */
export const safeNext = (next: unknown): string =>
  typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) && next.length <= 2000 ? next : '/';

export const signInRoutes = (
  options: Pick<AppOptions, 'getAdminToken' | 'clientIp'>,
  signIns: SignInLimiter | null = null,
) => {
  const r = new Hono<DashboardEnv>();

  r.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    if (await hasSession(c, await options.getAdminToken(c), c.var.now())) return c.redirect(next, 303);
    return c.html(loginPage(null, next, c.var.assets));
  });

  r.post(
    '/login',
    async (c, next) => {
      // Before the body is read: a flood of guesses costs neither memory nor parsing.
      const wait = signIns ? signIns.wait(options.clientIp?.(c), c.var.now()) : 0;
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        const back = safeNext(c.req.query('next'));
        return c.html(loginPage(`Too many sign-in attempts; try again in ${wait} s.`, back, c.var.assets), 429);
      }
      await next();
    },
    formBody({ maxBytes: SIGN_IN_BODY_BYTES, required: ['token'] }),
    async (c) => {
      const form = c.var.form;
      const next = safeNext(str(form.next));
      const token = await options.getAdminToken(c);
      const ip = options.clientIp?.(c);
      if (!safeEqual(str(form.token).trim(), token)) {
        signIns?.failed(ip, c.var.now());
        return c.html(loginPage('That is not the admin token of this collector.', next, c.var.assets), 401);
      }
      signIns?.succeeded(ip, c.var.now());
      await startSession(c, token, c.var.now());
      return c.redirect(next, 303);
    },
  );

  r.post('/logout', formBody({ maxBytes: SIGN_IN_BODY_BYTES }), (c) => {
    endSession(c);
    return c.redirect('/login', 303);
  });
  return r;
};
