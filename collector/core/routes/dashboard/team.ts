/**
 * The team tab (admins and up) and its forms: invites (create: the link shown once; revoke), members' roles and
 * removal (owners), share links (create: the URL shown once; revoke). Every form calls the service the API calls,
 * so both authorize and refuse the same things.
 */
import { Hono } from 'hono';
import { can, roleOf, type Role } from '../../access';
import { h } from '../../dashboard/format';
import { sitePath } from '../../dashboard/layout';
import { teamPage, type TeamData } from '../../dashboard/pages/team';
import { InputError } from '../../errors';
import { formBody, ownOrigin } from '../../http';
import {
  createInvite,
  invitePath,
  listMembers,
  pendingInvites,
  removeMember,
  revokeInvite,
  setMemberRole,
} from '../../services/members';
import { createShareLink, listShareLinks, revokeShareLink, sharePath } from '../../services/shares';
import { flashOf, formMessage, render, sitePage, str, type PageContext, type SignedInEnv } from './page';

const teamData = async (c: PageContext, extra: Partial<TeamData> = {}): Promise<TeamData> => {
  const { actor, store, site } = c.var;
  const [members, invites, shares] = await Promise.all([
    listMembers(actor, store, site),
    pendingInvites(actor, store, site, c.var.now()),
    listShareLinks(actor, store, site),
  ]);
  return {
    site: site.id,
    role: roleOf(actor, site.id) as Role,
    manage: can(actor, site.id, 'members.manage'),
    members,
    invites,
    shares,
    now: c.var.now(),
    flash: flashOf(c),
    ...extra,
  };
};

const show = (c: PageContext, data: TeamData, status = 200) => {
  c.status(status as 200);
  return render(c, 'team', 'Team', teamPage(data), {
    range: false,
    sub: h`<p class="muted small">Who may see site <code>${c.var.site.id}</code>, and its share links</p>`,
  });
};

const back = (c: PageContext, done: string) => `${sitePath(c.var.site.id, 'team')}?done=${done}`;

/** Rethrows anything but an InputError. */
const inputError = (e: unknown): InputError => {
  if (e instanceof InputError) return e;
  throw e;
};

/** Something already gone (another tab, a second click) leaves nothing to do: the redirect shows the list. */
const unlessGone = (e: unknown): void => {
  if (inputError(e).status !== 404) throw e;
};

/** A member change refused (the last owner, a bad role): the page again with why; a role too low stays the 403 page. */
const refused = async (c: PageContext, e: unknown) => {
  const err = inputError(e);
  if (err.status === 403) throw err;
  const flash = h`<div class="error" role="alert">${formMessage(err)}</div>`;
  return show(c, await teamData(c, { flash }), err.status);
};

export const teamRoutes = () => {
  const r = new Hono<SignedInEnv>();

  r.get('/sites/:site/team', sitePage, async (c) => show(c, await teamData(c)));

  r.post('/sites/:site/team/invites', sitePage, formBody({ required: ['role'] }), async (c) => {
    try {
      const { secret, invite } = await createInvite(
        c.var.actor,
        c.var.store,
        c.var.site,
        str(c.var.form.role),
        c.var.now(),
      );
      c.header('Cache-Control', 'no-store');
      const newInvite = { url: ownOrigin(c) + invitePath(secret), role: invite.role };
      return show(c, await teamData(c, { newInvite, flash: h`` }));
    } catch (e) {
      const err = inputError(e);
      if (err.path !== 'role') throw err; // a role too low for the tab: the 403 page
      return show(c, await teamData(c, { inviteError: formMessage(err), flash: h`` }), err.status);
    }
  });

  r.post('/sites/:site/team/invites/:id/revoke', sitePage, formBody(), async (c) => {
    await revokeInvite(c.var.actor, c.var.store, c.var.site, c.req.param('id'), c.var.now()).catch(unlessGone);
    return c.redirect(back(c, 'invite-revoked'), 303);
  });

  r.post('/sites/:site/team/members/:user/role', sitePage, formBody({ required: ['role'] }), async (c) => {
    const { actor, store, site } = c.var;
    try {
      await setMemberRole(actor, store, site, c.req.param('user'), str(c.var.form.role), c.var.now());
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect(back(c, 'member-updated'), 303);
  });

  r.post('/sites/:site/team/members/:user/remove', sitePage, formBody(), async (c) => {
    try {
      await removeMember(c.var.actor, c.var.store, c.var.site, c.req.param('user'), c.var.now()).catch(unlessGone);
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect(back(c, 'member-removed'), 303);
  });

  r.post(
    '/sites/:site/team/shares',
    sitePage,
    formBody({ required: ['name', 'password', 'expiresInDays'] }),
    async (c) => {
      const form = c.var.form;
      const input = { name: str(form.name), password: str(form.password), expiresInDays: str(form.expiresInDays) };
      try {
        const { actor, store, kdf, site } = c.var;
        const { secret, link } = await createShareLink(actor, store, kdf, site, input, c.var.now());
        c.header('Cache-Control', 'no-store');
        const newShare = { url: ownOrigin(c) + sharePath(secret), name: link.name };
        return show(c, await teamData(c, { newShare, flash: h`` }));
      } catch (e) {
        const err = inputError(e);
        if (err.status === 403 || err.status === 404) throw err;
        return show(c, await teamData(c, { shareError: formMessage(err), flash: h`` }), err.status);
      }
    },
  );

  r.post('/sites/:site/team/shares/:id/revoke', sitePage, formBody(), async (c) => {
    await revokeShareLink(c.var.actor, c.var.store, c.var.site, c.req.param('id'), c.var.now()).catch(unlessGone);
    return c.redirect(back(c, 'share-revoked'), 303);
  });
  return r;
};
