/**
 * The audit log on the settings page: the latest changes of the site's settings, stages, rules, keys, members and
 * share links, and its erasures — who, what, when. The whole log is exported by `GET /api/sites/:site/audit`.
 */
import type { AuditEntry } from '../../store';
import { ago, dateTime } from '../format';

/** What an entry's detail says, in a few words (the export has it whole). */
const detailText = (e: AuditEntry): string => {
  const d = e.detail ?? {};
  const parts: string[] = [];
  for (const [k, v] of Object.entries(d)) {
    if (v === null || v === undefined) continue;
    const text = Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    parts.push(`${k}: ${text.length > 80 ? `${text.slice(0, 79)}…` : text}`);
  }
  return parts.join(' · ');
};

export const AuditLog = ({
  site,
  entries,
  now,
  tz = 'UTC',
}: {
  site: string;
  entries: AuditEntry[];
  now: number;
  tz?: string;
}) => (
  <div class="card" id="audit">
    <h2>Audit log</h2>
    <p class="muted small">
      Who changed what, newest first (append-only). The whole log: <code>GET /api/sites/{site}/audit</code> (NDJSON). An
      erased visitor is named by the keyed hash of its tombstone, never by its id.
    </p>
    {entries.length === 0 ? (
      <p class="muted">No changes recorded yet.</p>
    ) : (
      <div class="table-wrap">
        <table data-testid="audit">
          <thead>
            <tr>
              <th>when</th>
              <th>who</th>
              <th>what</th>
              <th>target</th>
              <th>detail</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr>
                <td class="nowrap" title={`${dateTime(e.at, tz)} ${tz}`}>
                  {ago(e.at, now)}
                </td>
                <td>{e.actorLabel}</td>
                <td class="mono small">{e.action}</td>
                <td class="mono small">{e.target ?? ''}</td>
                <td class="small">{detailText(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )}
  </div>
);
