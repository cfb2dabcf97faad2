/**
 * The audit log of a site: who changed its settings, stages, rules, write keys, members, share links, and who erased
 * a visitor — appended by the service that made the change, after it succeeded; never changed or deleted (the
 * store has no method for it, and the table's triggers refuse it). Shown on the settings page, exported with the
 * site by `GET /api/sites/:site/audit` (NDJSON, oldest first; docs/api.md).
 *
 * An erased visitor appears by the keyed hash its tombstone uses (core/privacy.ts), never by its id: the log must not
 * keep what the erasure removed, and whoever knows the id can still tell that it was erased.
 */
import { actorId, actorLabel, authorize, type Actor } from '../access';
import type { AuditEntry, Store } from '../store';

/** Appends an entry to the site's audit log, stamped with the actor. */
export const audit = (
  store: Store,
  actor: Actor,
  site: string,
  at: number,
  action: string,
  target: string | null = null,
  detail: Record<string, unknown> | null = null,
): Promise<void> =>
  store.appendAudit({ site, at, actor: actorId(actor), actorLabel: actorLabel(actor), action, target, detail });

/** Entries the settings page shows. */
export const AUDIT_PAGE = 50;

/** The latest entries of the site's log, newest first (admin). */
export const listAudit = async (
  actor: Actor,
  store: Store,
  site: string,
  limit = AUDIT_PAGE,
  before?: number,
): Promise<AuditEntry[]> => {
  authorize(actor, site, 'audit.read');
  return store.listAudit(site, limit, before);
};

/** Pages read while exporting. */
const EXPORT_PAGE = 500;

/**
 * The whole log as NDJSON, oldest first (`GET /api/sites/:site/audit`): read newest-first page by page, then
 * reversed, so memory holds the log once (it grows by settings changes, not by traffic).
 */
export const exportAudit = async (actor: Actor, store: Store, site: string): Promise<string> => {
  authorize(actor, site, 'audit.read');
  const all: AuditEntry[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await store.listAudit(site, EXPORT_PAGE, before);
    all.push(...page);
    if (page.length < EXPORT_PAGE) break;
    before = page[page.length - 1]!.id;
  }
  return all
    .reverse()
    .map((e) => JSON.stringify(e) + '\n')
    .join('');
};
