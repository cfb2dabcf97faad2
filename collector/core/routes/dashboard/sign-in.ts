/**
 * Signing in to the dashboard — with an e-mail and password, or with the admin token (the instance owner's key) —
 * and out again. A server-side session behind an HttpOnly, SameSite=Strict cookie (dashboard/auth.ts). Guesses are
 * limited before the body is even read (the sign-in limiter of core/limits.ts, shared with the API's bearer check):
 * ten tries at once per address, then one every 5 s, under a global ceiling; a password also counts against its
 * account (ten, then one a minute), wherever the guesses come from.
 */
import { Hono, type Context } from 'hono';
import { currentSession, endSession, startSession, type SessionLimits } from '../../dashboard/auth';
import { loginPage } from '../../dashboard/layout';
import { InputError } from '../../errors';
import { formBody, safeEqual, SIGN_IN_BODY_BYTES, type AppOptions } from '../../http';
import type { SignInLimiter } from '../../limits';
import type { Store } from '../../store';
import { verifyPassword } from '../../services/users';
import type { DashboardEnv } from './assets';
import { str } from './page';

/** A local path to return to after sign-in; anything else (other hosts, `//evil`, `/\evil`) becomes `/`. */
export const safeNext = (next: unknown): string =>
  typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) && next.length <= 2000 ? next : '/';

/** The limiter's account of an e-mail. */
const accountOf = (email: string) => `user:${email.trim().toLowerCase().slice(0, 254)}`;

export const signInRoutes = (
  options: Pick<AppOptions, 'getAdminToken' | 'clientIp'>,
  signIns: SignInLimiter | null,
  limits: SessionLimits,
) => {
  const r = new Hono<DashboardEnv>();

  /** A sign-in replaces the browser's session: the one its cookie had is ended on the server, not left running. */
  const replaceSession = async (c: Context, store: Store, now: number) => {
    const old = await currentSession(c, await options.getAdminToken(c), now, limits);
    if (old) await store.revokeSession(old.id, now);
  };

  r.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    if (await currentSession(c, await options.getAdminToken(c), c.var.now(), limits)) return c.redirect(next, 303);
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
    formBody({ maxBytes: SIGN_IN_BODY_BYTES }),
    async (c) => {
      const form = c.var.form;
      const next = safeNext(str(form.next));
      const ip = options.clientIp?.(c);
      const now = c.var.now();

      // ----- e-mail and password -----
      if (form.email) {
        if (!form.password) throw new InputError(400, '[cjm] the form has no field "password"', 'password');
        const email = str(form.email).trim();
        const account = accountOf(email);
        const wait = signIns ? signIns.wait(ip, now, account) : 0;
        if (wait > 0) {
          c.header('Retry-After', String(wait));
          const message = `Too many attempts for this account; try again in ${wait} s.`;
          return c.html(loginPage(message, next, c.var.assets, { email }), 429);
        }
        const user = await verifyPassword(c.var.store, c.var.kdf, email, str(form.password));
        if (!user) {
          signIns?.failed(ip, now, account);
          const message = 'That e-mail and password do not match an account.';
          return c.html(loginPage(message, next, c.var.assets, { email }), 401);
        }
        signIns?.succeeded(ip, now, account);
        await replaceSession(c, c.var.store, now);
        await startSession(c, { userId: user.id }, now, limits);
        return c.redirect(next, 303);
      }

      // ----- the admin token -----
      if (!form.token) throw new InputError(400, '[cjm] the form has no field "token"', 'token');
      const token = await options.getAdminToken(c);
      if (!safeEqual(str(form.token).trim(), token)) {
        signIns?.failed(ip, now);
        return c.html(
          loginPage('That is not the admin token of this collector.', next, c.var.assets, { token: true }),
          401,
        );
      }
      signIns?.succeeded(ip, now);
      await replaceSession(c, c.var.store, now);
      await startSession(c, { adminToken: token }, now, limits);
      return c.redirect(next, 303);
    },
  );

  // Sign-out of this browser: its session is revoked on the server, not only its cookie deleted.
  r.post('/logout', formBody({ maxBytes: SIGN_IN_BODY_BYTES }), async (c) => {
    const now = c.var.now();
    await endSession(c, await currentSession(c, await options.getAdminToken(c), now, limits), now);
    return c.redirect('/login', 303);
  });
  return r;
};
