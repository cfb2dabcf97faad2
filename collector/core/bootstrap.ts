/**
 * Start-up work shared by the Node and Workers entries: the admin token and the demo site.
 */
import { defaultSiteConfig } from './stages';
import type { Store } from './store';

const randomToken = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
};

/**
 * The admin token: `CJM_ADMIN_TOKEN` when set, otherwise the one kept in the database, generated on first start.
 */
export const resolveAdminToken = async (store: Store, fromEnv: string | undefined): Promise<string> => {
  if (fromEnv) return fromEnv;
  return (await store.getMeta('admin_token')) ?? store.setMeta('admin_token', randomToken(), true);
};

/** Creates the `demo` site (default stages, any origin) unless it exists. */
export const ensureDemoSite = async (store: Store): Promise<void> => {
  if (!(await store.getSite('demo'))) await store.putSite(defaultSiteConfig('demo', { name: 'Demo shop' }));
};
