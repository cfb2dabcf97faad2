/**
 * Invite links (`/invite/<secret>`), public: the page that accepts one (a new account, or the role for the signed-in
 * user) and its form. An unknown secret counts as a failed guess on the sign-in limiter, like a wrong token; the
 * secret is 256 random bits, the limiter only keeps scanners from costing anything. On success the new user is
 * signed in and taken to the site.
 */
import { Hono, type Context } from 'hono';
import { currentSession, startSession, type SessionLimits } from '../../dashboard/auth';
import { sitePath } from '../../dashboard/layout';
import { inviteGonePage, invitePage } from '../../dashboard/pages/invite';
import { InputError } from '../../errors';
import { formBody, SIGN_IN_BODY_BYTES, type AppOptions, type FormEnv } from '../../http';
import type { SignInLimiter } from '../../limits';
import { acceptInvite, invitePath, openInvite } from '../../services/members';
import type { Invite } from '../../store';
import type { DashboardEnv } from './assets';
import { formMessage, str } from './page';

export const inviteRoutes = (
  options: Pick<AppOptions, 'getAdminToken' | 'clientIp'>,
  signIns: SignInLimiter | null,
  limits: SessionLimits,
) => {
  type InviteEnv = DashboardEnv & FormEnv;
  const r = new Hono<InviteEnv>();

  /** The signed-in user's id and e-mail, if a user is signed in (the admin token is no user). */
  const signedInUser = async (c: Context<InviteEnv>) => {
    const session = await currentSession(c, await options.getAdminToken(c), c.var.now(), limits);
    if (!session?.userId) return null;
    return c.var.store.getUser(session.userId);
  };

  /** The invite of the path, or the page that says why it does not work (and a failed guess when unknown). */
  const open = async (c: Context<InviteEnv>): Promise<Invite | Response> => {
    const ip = options.clientIp?.(c);
    const wait = signIns ? signIns.wait(ip, c.var.now()) : 0;
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return c.html(inviteGonePage(`Too many attempts from this address; try again in ${wait} s.`, c.var.assets), 429);
    }
    try {
      return await openInvite(c.var.store, c.req.param('secret') ?? '', c.var.now());
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      if (/not known/.test(e.message)) signIns?.failed(ip, c.var.now());
      return c.html(inviteGonePage(formMessage(e), c.var.assets), 404);
    }
  };

  const siteName = async (c: Context<InviteEnv>, invite: Invite) =>
    invite.site === null ? null : ((await c.var.store.getSite(invite.site))?.name ?? invite.site);

  r.get('/invite/:secret', async (c) => {
    const invite = await open(c);
    if (invite instanceof Response) return invite;
    const user = await signedInUser(c);
    const action = invitePath(c.req.param('secret'));
    return c.html(
      invitePage(
        { invite, siteName: await siteName(c, invite), action, signedInAs: user?.email ?? null },
        c.var.assets,
      ),
    );
  });

  r.post('/invite/:secret', formBody({ maxBytes: SIGN_IN_BODY_BYTES }), async (c) => {
    const invite = await open(c);
    if (invite instanceof Response) return invite;
    const form = c.var.form;
    const secret = c.req.param('secret');
    const now = c.var.now();
    const user = await signedInUser(c);
    let who: { userId: string } | { email: unknown; password: unknown };
    if (form.accept) {
      if (!user) throw new InputError(400, '[cjm] sign in first to accept the invite for your account', 'accept');
      who = { userId: user.id };
    } else {
      for (const field of ['email', 'password']) {
        if (!form[field]) throw new InputError(400, `[cjm] the form has no field "${field}"`, field);
      }
      who = { email: str(form.email), password: str(form.password) };
    }
    let userId: string;
    try {
      ({ userId } = await acceptInvite(c.var.store, c.var.kdf, secret, who, now));
    } catch (e) {
      if (!(e instanceof InputError) || e.status === 404) throw e;
      c.status(e.status);
      const view = {
        invite,
        siteName: await siteName(c, invite),
        action: invitePath(secret),
        signedInAs: user?.email ?? null,
        error: formMessage(e),
        email: str(form.email),
      };
      return c.html(invitePage(view, c.var.assets));
    }
    if (!user) await startSession(c, { userId }, now, limits);
    return c.redirect(invite.site === null ? '/' : sitePath(invite.site, 'map'), 303);
  });
  return r;
};
