/**
 * The teams API under `/api` (docs/api.md, "Users, roles and tokens"): who am I, a site's members and invites, the
 * instance owner's bootstrap invite and user list, personal API tokens, share links, and a site's audit log as an
 * NDJSON export. Parse → call a service (which authorizes) → render.
 */
import { Hono } from 'hono';
import { actorLabel, isInstanceOwner, roleOf } from '../access';
import { InputError } from '../errors';
import { jsonBody, ownOrigin, withSite, type ApiEnv } from '../http';
import { exportAudit } from '../services/audit';
import {
  createBootstrapInvite,
  createInvite,
  invitePath,
  listMembers,
  pendingInvites,
  removeMember,
  revokeInvite,
  setMemberRole,
} from '../services/members';
import { createShareLink, listShareLinks, revokeShareLink, sharePath } from '../services/shares';
import { createApiToken, listApiTokens, revokeApiToken } from '../services/tokens';
import { visibleSites } from '../services/sites';
import { listUsers } from '../services/users';

const SMALL = { maxBytes: 4 * 1024 };

/** A JSON object body, or a 400 saying what it should be. */
const object = (body: unknown, example: string): Record<string, unknown> => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InputError(400, `[cjm] the body must be a JSON object like ${example}`);
  }
  return body as Record<string, unknown>;
};

export const teamRoutes = () => {
  const r = new Hono<ApiEnv>();

  // ----- who is asking -----
  r.get('/me', async (c) => {
    const actor = c.var.actor;
    const sites = await visibleSites(actor, c.var.store);
    return c.json({
      kind: actor.kind,
      label: actorLabel(actor),
      instanceOwner: isInstanceOwner(actor),
      ...(actor.kind === 'token' ? { token: actor.token } : {}),
      sites: sites.map((s) => ({ id: s.id, name: s.name, role: roleOf(actor, s.id) })),
    });
  });

  r.get('/users', async (c) => c.json({ users: await listUsers(c.var.actor, c.var.store) }));

  // ----- members and invites -----
  r.get('/sites/:site/members', withSite, async (c) => {
    const { actor, store, site } = c.var;
    return c.json({
      members: await listMembers(actor, store, site),
      invites: await pendingInvites(actor, store, site, c.var.now()),
    });
  });

  r.put('/sites/:site/members/:user', withSite, jsonBody(SMALL), async (c) => {
    const body = object(c.var.body, '{ "role": "analyst" }');
    const { actor, store, site } = c.var;
    return c.json({ member: await setMemberRole(actor, store, site, c.req.param('user'), body.role, c.var.now()) });
  });

  r.delete('/sites/:site/members/:user', withSite, async (c) => {
    await removeMember(c.var.actor, c.var.store, c.var.site, c.req.param('user'), c.var.now());
    return c.json({ removed: c.req.param('user') });
  });

  r.post('/sites/:site/invites', withSite, jsonBody(SMALL), async (c) => {
    const body = object(c.var.body, '{ "role": "viewer" }');
    const { secret, invite } = await createInvite(c.var.actor, c.var.store, c.var.site, body.role, c.var.now());
    c.header('Cache-Control', 'no-store');
    return c.json({ url: ownOrigin(c) + invitePath(secret), invite }, 201);
  });

  r.get('/sites/:site/invites', withSite, async (c) =>
    c.json({ invites: await pendingInvites(c.var.actor, c.var.store, c.var.site, c.var.now()) }),
  );

  r.delete('/sites/:site/invites/:id', withSite, async (c) =>
    c.json({ invite: await revokeInvite(c.var.actor, c.var.store, c.var.site, c.req.param('id'), c.var.now()) }),
  );

  // The instance owner's invite (the Worker's way to make its first user: it prints no start banner).
  r.post('/invites', async (c) => {
    const { secret, invite } = await createBootstrapInvite(c.var.actor, c.var.store, c.var.now());
    c.header('Cache-Control', 'no-store');
    return c.json({ url: ownOrigin(c) + invitePath(secret), invite }, 201);
  });

  // ----- personal API tokens -----
  r.get('/tokens', async (c) => c.json({ tokens: await listApiTokens(c.var.actor, c.var.store) }));

  r.post('/tokens', jsonBody(SMALL), async (c) => {
    const body = object(c.var.body, '{ "name": "reporting script", "role": "viewer" }');
    const created = await createApiToken(c.var.actor, c.var.store, body, c.var.now());
    c.header('Cache-Control', 'no-store');
    return c.json(created, 201);
  });

  r.delete('/tokens/:id', async (c) =>
    c.json({ token: await revokeApiToken(c.var.actor, c.var.store, c.req.param('id'), c.var.now()) }),
  );

  // ----- share links -----
  r.get('/sites/:site/shares', withSite, async (c) =>
    c.json({ shares: await listShareLinks(c.var.actor, c.var.store, c.var.site) }),
  );

  r.post('/sites/:site/shares', withSite, jsonBody(SMALL), async (c) => {
    const body = object(c.var.body, '{ "name": "agency", "password": "…", "expiresInDays": 30 }');
    const { actor, store, kdf, site } = c.var;
    const { secret, link } = await createShareLink(actor, store, kdf, site, body, c.var.now());
    c.header('Cache-Control', 'no-store');
    return c.json({ url: ownOrigin(c) + sharePath(secret), share: link }, 201);
  });

  r.delete('/sites/:site/shares/:id', withSite, async (c) =>
    c.json({ share: await revokeShareLink(c.var.actor, c.var.store, c.var.site, c.req.param('id'), c.var.now()) }),
  );

  // ----- the audit log, exported with the site -----
  r.get('/sites/:site/audit', withSite, async (c) => {
    const site = c.var.site;
    const body = await exportAudit(c.var.actor, c.var.store, site.id);
    return c.body(body, 200, {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="${`cjm-${site.id}-audit.ndjson`.replace(/[^\w.-]/g, '_')}"`,
      'Cache-Control': 'no-store',
    });
  });

  return r;
};
