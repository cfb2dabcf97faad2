/**
 * Per-site automation settings and the webhook signing secret, kept in the store's meta table:
 * `automation.settings:<site>` (JSON) and `automation.secret:<site>`.
 */
import type { Store } from '../store';
import { newSecret } from './sign';

export interface AutomationSettings {
  /** Allow webhooks to private, loopback and link-local targets (development only). Default false. */
  allowPrivateWebhooks: boolean;
}

const settingsKey = (site: string) => `automation.settings:${site}`;
const secretKey = (site: string) => `automation.secret:${site}`;

export const getAutomationSettings = async (store: Store, site: string): Promise<AutomationSettings> => {
  const raw = await store.getMeta(settingsKey(site));
  const v = raw ? (JSON.parse(raw) as Partial<AutomationSettings>) : {};
  return { allowPrivateWebhooks: v.allowPrivateWebhooks === true };
};

export const putAutomationSettings = async (
  store: Store,
  site: string,
  settings: AutomationSettings,
): Promise<void> => {
  await store.setMeta(settingsKey(site), JSON.stringify(settings));
};

/** The site's signing secret, generated on first use and kept. */
export const getWebhookSecret = async (store: Store, site: string): Promise<string> =>
  (await store.getMeta(secretKey(site))) ?? store.setMeta(secretKey(site), newSecret(), true);

/** Replaces the site's secret; deliveries sent from now on (retries included) are signed with the new one. */
export const rotateWebhookSecret = (store: Store, site: string): Promise<string> =>
  store.setMeta(secretKey(site), newSecret());
