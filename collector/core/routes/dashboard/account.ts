/**
 * The account page and its forms: change the password (ends every other session), sign out everywhere else,
 * personal API tokens (create: shown once; revoke), and the instance owner's invite for another instance owner.
 */
import { Hono, type Context } from 'hono';
import { actorLabel, isInstanceOwner, roleOf, type Role } from '../../access';
import { h } from '../../dashboard/format';
import { accountPage, type AccountData } from '../../dashboard/pages/account';
import { InputError } from '../../errors';
import { formBody, ownOrigin, type FormEnv } from '../../http';
import { createBootstrapInvite, invitePath } from '../../services/members';
import { visibleSites } from '../../services/sites';
import { createApiToken, listApiTokens, revokeApiToken } from '../../services/tokens';
import { changePassword, signOutEverywhere } from '../../services/users';
import { flashOf, formMessage, str, type SignedInEnv } from './page';

/** The account routes (a form post adds `form`). */
type AccountEnv = SignedInEnv & FormEnv;
type AccountContext = Context<AccountEnv>;

const accountData = async (c: AccountContext, extra: Partial<AccountData> = {}): Promise<AccountData> => {
  const { actor, store } = c.var;
  const sites = (await visibleSites(actor, store)).map((s) => ({
    id: s.id,
    name: s.name,
    role: roleOf(actor, s.id) as Role,
  }));
  return {
    email: actor.kind === 'user' ? actor.user.email : null,
    instanceOwner: isInstanceOwner(actor),
    sites,
    tokens: actor.kind === 'user' ? await listApiTokens(actor, store) : null,
    now: c.var.now(),
    flash: flashOf(c),
    ...extra,
  };
};

const show = (c: AccountContext, data: AccountData, status: number = 200) => {
  c.status(status as 200);
  return c.html(accountPage(data, c.var.assets, actorLabel(c.var.actor)));
};

/** Rethrows anything but an InputError. */
const inputError = (e: unknown): InputError => {
  if (e instanceof InputError) return e;
  throw e;
};

export const accountRoutes = () => {
  const r = new Hono<AccountEnv>();

  r.get('/account', async (c) => show(c, await accountData(c)));

  r.post('/account/password', formBody({ required: ['current', 'password'] }), async (c) => {
    const form = c.var.form;
    try {
      await changePassword(c.var.actor, c.var.store, c.var.kdf, str(form.current), str(form.password), c.var.now());
    } catch (e) {
      const err = inputError(e);
      return show(c, await accountData(c, { passwordError: formMessage(err), flash: h`` }), err.status);
    }
    return c.redirect('/account?done=password', 303);
  });

  r.post('/account/sign-out-everywhere', formBody(), async (c) => {
    await signOutEverywhere(c.var.actor, c.var.store, c.var.now(), c.var.session.id);
    return c.redirect('/account?done=everywhere', 303);
  });

  r.post('/account/tokens', formBody({ required: ['name', 'role', 'site', 'expiresInDays'] }), async (c) => {
    const form = c.var.form;
    const input = {
      name: str(form.name),
      role: str(form.role),
      site: str(form.site),
      expiresInDays: str(form.expiresInDays).trim(),
    };
    try {
      const { token, apiToken } = await createApiToken(c.var.actor, c.var.store, input, c.var.now());
      c.header('Cache-Control', 'no-store');
      return show(c, await accountData(c, { newToken: { name: apiToken.name, token }, flash: h`` }));
    } catch (e) {
      const err = inputError(e);
      return show(c, await accountData(c, { tokenError: formMessage(err), flash: h`` }), err.status);
    }
  });

  r.post('/account/tokens/:id/revoke', formBody(), async (c) => {
    await revokeApiToken(c.var.actor, c.var.store, c.req.param('id'), c.var.now()).catch((e: unknown) => {
      if (inputError(e).status !== 404) throw e;
    });
    return c.redirect('/account?done=token-revoked', 303);
  });

  r.post('/account/owner-invite', formBody(), async (c) => {
    const { secret } = await createBootstrapInvite(c.var.actor, c.var.store, c.var.now());
    c.header('Cache-Control', 'no-store');
    return show(c, await accountData(c, { ownerInvite: ownOrigin(c) + invitePath(secret), flash: h`` }));
  });
  return r;
};
