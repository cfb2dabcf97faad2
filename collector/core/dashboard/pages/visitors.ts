/**
 * The visitors list: filter by stage, first channel, converted, activity range and a visitor/user id prefix;
 * newest activity first, paginated with the store's cursor.
 */
import { CHANNELS } from '../../channels';
import type { SiteConfig } from '../../stages';
import type { VisitorSummary } from '../../store';
import { ago, channelLabel, dateTime, h, nothing, num, qs, type Html } from '../format';
import { sitePath } from '../layout';

export interface VisitorFilters {
  stage?: string;
  channel?: string;
  converted?: boolean;
  q?: string;
}

const option = (value: string, label: string, selected: string | undefined) =>
  h`<option value="${value}"${selected === value ? h` selected` : nothing}>${label}</option>`;

export const visitorsPage = (o: {
  site: SiteConfig;
  filters: VisitorFilters;
  rangeQuery: Record<string, string | undefined>;
  visitors: VisitorSummary[];
  cursor: string | null;
  paged: boolean;
  now: number;
  flash?: Html;
}): Html => {
  const { site, filters } = o;
  const base = sitePath(site.id, 'visitors');
  const keep = {
    ...o.rangeQuery,
    stage: filters.stage,
    channel: filters.channel,
    converted: filters.converted === undefined ? undefined : String(filters.converted),
    q: filters.q,
  };
  const hidden = Object.entries(o.rangeQuery).map(([k, v]) =>
    v ? h`<input type="hidden" name="${k}" value="${v}">` : nothing,
  );
  const converted = filters.converted === undefined ? '' : String(filters.converted);
  const rows = o.visitors.map((v) => {
    const href = `${sitePath(site.id, 'visitors')}/${encodeURIComponent(v.visitor)}`;
    return h`<tr>
<td class="id"><a href="${href}">${v.visitor}</a>${v.userId ? h`<div class="small muted">user ${v.userId}</div>` : nothing}${v.visitors > 1 ? h`<div class="small muted">${v.visitors} devices</div>` : nothing}</td>
<td>${v.currentStage ? h`<span class="badge stage">${v.currentStage}</span>` : '–'}${v.furthestStage && v.furthestStage !== v.currentStage ? h`<div class="small muted">furthest: ${v.furthestStage}</div>` : nothing}</td>
${v.converted ? h`<td><span class="badge good">converted</span></td>` : h`<td data-label="converted"><span class="muted">no</span></td>`}
<td>${channelLabel(v.firstChannel)}${v.lastChannel && v.lastChannel !== v.firstChannel ? h`<div class="small muted">last: ${channelLabel(v.lastChannel)}</div>` : nothing}</td>
<td class="num" data-label="touches">${num(v.touches)}</td>
<td class="num" data-label="sessions">${num(v.sessions)}</td>
<td class="hide-sm">${v.device ?? '–'}</td>
<td class="nowrap" title="${dateTime(v.lastSeen)} UTC">${ago(v.lastSeen, o.now)}<div class="small muted hide-sm">first ${dateTime(v.firstSeen)}</div></td>
</tr>`;
  });
  return h`${o.flash ?? nothing}<div class="card">
<form class="filters" method="get" action="${base}" role="search">${hidden}
  <label class="grow">Visitor or user id<input type="search" name="q" value="${filters.q ?? ''}" placeholder="prefix of a visitor id or user id"></label>
  <label>Current stage<select name="stage" data-autosubmit>${option('', 'any', filters.stage ?? '')}${site.stages.map((s) => option(s.name, s.name, filters.stage))}</select></label>
  <label>First channel<select name="channel" data-autosubmit>${option('', 'any', filters.channel ?? '')}${CHANNELS.map((c) => option(c, channelLabel(c), filters.channel))}</select></label>
  <label>Converted<select name="converted" data-autosubmit>${option('', 'any', converted)}${option('true', 'yes', converted)}${option('false', 'no', converted)}</select></label>
  <button class="btn primary" type="submit">Filter</button>
  ${filters.stage || filters.channel || filters.converted !== undefined || filters.q ? h`<a class="btn" href="${base}${qs(o.rangeQuery)}">Clear</a>` : nothing}
</form></div>
<div class="card">
${
  o.visitors.length === 0
    ? h`<p class="empty">No visitors match these filters in this range.</p>`
    : h`<div class="table-wrap"><table class="cards" data-testid="visitors"><thead><tr><th>visitor</th><th>stage</th><th>converted</th><th>channel</th><th class="num">touches</th><th class="num hide-sm">sessions</th><th class="hide-sm">device</th><th>last seen</th></tr></thead><tbody>${rows}</tbody></table></div>`
}
<div class="pager">
  <span>${o.paged ? h`<a class="btn" href="${base}${qs(keep)}">← First page</a>` : nothing}</span>
  <span class="muted small">${num(o.visitors.length)} shown</span>
  <span>${o.cursor ? h`<a class="btn" rel="next" href="${base}${qs({ ...keep, cursor: o.cursor })}">Next page →</a>` : nothing}</span>
</div></div>`;
};
