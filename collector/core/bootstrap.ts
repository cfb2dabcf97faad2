/**
 * Start-up work shared by the Node and Workers entries: the admin token and the demo site.
 */
import { defaultSiteConfig } from './stages';
import type { Store } from './store';

const randomToken = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
};

/** The shortest admin token accepted: 24 characters (a generated one has 48 hex digits). */
export const ADMIN_TOKEN_MIN = 24;

/**
 * Refuses an admin token a guesser could reach, or one `Authorization: Bearer` cannot carry: at least 24 characters of
 * `A-Z a-z 0-9 . _ ~ + / -`. Thrown at start (Node) or on the first request (Workers), naming the fix.
 */
export const checkAdminToken = (token: string, origin: string): string => {
  if (token.length < ADMIN_TOKEN_MIN || !/^[A-Za-z0-9._~+/-]+$/.test(token)) {
    throw new Error(
      `[cjm] the admin token (${origin}) must be at least ${ADMIN_TOKEN_MIN} characters of A-Z a-z 0-9 . _ ~ + / - ` +
        `(it has ${token.length}); generate one with \`openssl rand -hex 24\``,
    );
  }
  return token;
};

/**
 * The admin token: `CJM_ADMIN_TOKEN` when set, otherwise the one kept in the database, generated on first start.
 * Either is checked by checkAdminToken.
 */
export const resolveAdminToken = async (store: Store, fromEnv: string | undefined): Promise<string> => {
  if (fromEnv) return checkAdminToken(fromEnv, 'CJM_ADMIN_TOKEN');
  const kept = (await store.getMeta('admin_token')) ?? (await store.setMeta('admin_token', randomToken(), true));
  return checkAdminToken(kept, 'kept in the database as meta admin_token');
};

/** Creates the `demo` site (default stages, any origin) unless it exists. */
export const ensureDemoSite = async (store: Store): Promise<void> => {
  if (!(await store.getSite('demo'))) await store.putSite(defaultSiteConfig('demo', { name: 'Demo shop' }));
};
