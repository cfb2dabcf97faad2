/**
 * Share links: a public, read-only URL (`/share/<secret>`) of one site's journey map and funnel — aggregates only,
 * the same report views the viewer role sees (routes/dashboard/views.ts). Optional password (hashed like a user's,
 * core/passwords.ts) and expiry; revocable; created, listed and revoked by the site's admins (`shares.manage`),
 * each change in the audit log. Only the SHA-256 of the secret is kept: the URL is shown once.
 */
import { actorId, authorize, type Actor } from '../access';
import { randomId, randomSecret } from '../secrets';
import { InputError } from '../errors';
import type { PasswordKdf } from '../passwords';
import { sha256Hex } from '../privacy';
import type { SiteConfig } from '../stages';
import type { ShareLink, ShareLinkRecord, Store } from '../store';
import { audit } from './audit';
import { checkNewPassword } from './users';

export const SHARE_NAME_LENGTH = 100;
export const SHARE_MAX_DAYS = 3650;
/** Links a site may have (revoked ones included). */
export const MAX_SHARE_LINKS = 100;

export const sharePath = (secret: string) => `/share/${secret}`;

export interface ShareInput {
  name?: unknown;
  /** Empty or absent: no password. */
  password?: unknown;
  expiresInDays?: unknown;
}

export const createShareLink = async (
  actor: Actor,
  store: Store,
  kdf: PasswordKdf,
  site: SiteConfig,
  input: ShareInput,
  now: number,
): Promise<{ secret: string; link: ShareLink }> => {
  authorize(actor, site.id, 'shares.manage');
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name || name.length > SHARE_NAME_LENGTH) {
    throw new InputError(400, `[cjm] name must be 1 to ${SHARE_NAME_LENGTH} characters`, 'name');
  }
  const password =
    input.password === undefined || input.password === null || input.password === ''
      ? null
      : checkNewPassword(input.password, 'password');
  let expiresAt: number | null = null;
  if (input.expiresInDays !== undefined && input.expiresInDays !== null && input.expiresInDays !== '') {
    const days = Number(input.expiresInDays);
    if (!Number.isInteger(days) || days < 1 || days > SHARE_MAX_DAYS) {
      throw new InputError(
        400,
        `[cjm] expiresInDays must be a whole number from 1 to ${SHARE_MAX_DAYS}`,
        'expiresInDays',
      );
    }
    expiresAt = now + days * 86_400_000;
  }
  if ((await store.listShareLinks(site.id)).length >= MAX_SHARE_LINKS) {
    throw new InputError(409, `[cjm] site "${site.id}" has ${MAX_SHARE_LINKS} share links; revoke one first`);
  }
  const secret = randomSecret();
  const record: ShareLinkRecord = {
    id: randomId('shr_'),
    site: site.id,
    name,
    prefix: secret.slice(0, 6),
    hasPassword: password !== null,
    passwordHash: password === null ? null : await kdf.hash(password),
    createdBy: actorId(actor),
    createdAt: now,
    expiresAt,
    lastViewedAt: null,
    revokedAt: null,
  };
  await store.createShareLink(record, await sha256Hex(secret));
  await audit(store, actor, site.id, now, 'share.create', record.id, {
    name,
    password: record.hasPassword,
    expiresAt,
  });
  const { passwordHash: _, ...link } = record;
  return { secret, link };
};

export const listShareLinks = async (actor: Actor, store: Store, site: SiteConfig): Promise<ShareLink[]> => {
  authorize(actor, site.id, 'shares.manage');
  return store.listShareLinks(site.id);
};

export const revokeShareLink = async (
  actor: Actor,
  store: Store,
  site: SiteConfig,
  id: string,
  now: number,
): Promise<ShareLink> => {
  authorize(actor, site.id, 'shares.manage');
  const link = await store.revokeShareLink(site.id, id, now);
  if (!link) throw new InputError(404, `[cjm] site "${site.id}" has no share link "${id}"`, 'id');
  if (link.revokedAt === now) await audit(store, actor, site.id, now, 'share.revoke', id, { name: link.name });
  return link;
};

/** The link of a secret while it works (known, not revoked, not expired), or null. */
export const openShareLink = async (store: Store, secret: string, now: number): Promise<ShareLinkRecord | null> => {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const link = await store.findShareLink(await sha256Hex(secret));
  if (!link || link.revokedAt !== null || (link.expiresAt !== null && link.expiresAt <= now)) return null;
  return link;
};
