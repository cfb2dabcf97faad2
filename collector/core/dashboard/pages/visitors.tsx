/**
 * The visitors list: filter by stage, first channel, converted, activity range and a visitor/user id prefix;
 * newest activity first, paginated with the store's cursor.
 */
import { CHANNELS } from '../../channels';
import type { SiteConfig } from '../../stages';
import type { VisitorSummary } from '../../store';
import { ago, channelLabel, dateTime, num, qs, type Html } from '../format';
import { sitePath } from '../layout';
import { timezoneOf } from '../../timezone';

export interface VisitorFilters {
  stage?: string;
  channel?: string;
  lastChannel?: string;
  device?: string;
  identified?: boolean;
  converted?: boolean;
  q?: string;
}

/** The device classes the collector keeps (core/privacy.ts `deviceClass`). */
export const DEVICE_CLASSES = ['desktop', 'mobile', 'tablet', 'other'] as const;

export interface VisitorsPageProps {
  site: SiteConfig;
  filters: VisitorFilters;
  rangeQuery: Record<string, string | undefined>;
  visitors: VisitorSummary[];
  cursor: string | null;
  paged: boolean;
  now: number;
  flash?: Html;
}

const Option = ({ value, label, selected }: { value: string; label: string; selected: string | undefined }) => (
  <option value={value} selected={selected === value}>
    {label}
  </option>
);

/** The channels as (value, label) choices of a filter. */
const CHANNEL_CHOICES: ReadonlyArray<readonly [string, string]> = CHANNELS.map((c) => [c, channelLabel(c)]);

/** One select of the filter bar: "any", then the choices; a change submits the form. */
const Filter = ({
  label,
  name,
  value,
  choices,
}: {
  label: string;
  name: string;
  value: string | undefined;
  choices: ReadonlyArray<readonly [string, string]>;
}) => (
  <label>
    {label}
    <select name={name} data-autosubmit="">
      <Option value="" label="any" selected={value ?? ''} />
      {choices.map(([v, l]) => (
        <Option value={v} label={l} selected={value} />
      ))}
    </select>
  </label>
);

const VisitorRow = ({ site, v, now }: { site: SiteConfig; v: VisitorSummary; now: number }) => (
  <tr>
    <td class="id">
      <a href={`${sitePath(site.id, 'visitors')}/${encodeURIComponent(v.visitor)}`}>{v.visitor}</a>
      {v.userId ? <div class="small muted">user {v.userId}</div> : null}
      {v.visitors > 1 ? <div class="small muted">{v.visitors} devices</div> : null}
    </td>
    <td>
      {v.currentStage ? <span class="badge stage">{v.currentStage}</span> : '–'}
      {v.furthestStage && v.furthestStage !== v.currentStage ? (
        <div class="small muted">furthest: {v.furthestStage}</div>
      ) : null}
    </td>
    {v.converted ? (
      <td>
        <span class="badge good">converted</span>
      </td>
    ) : (
      <td data-label="converted">
        <span class="muted">no</span>
      </td>
    )}
    <td>
      {channelLabel(v.firstChannel)}
      {v.lastChannel && v.lastChannel !== v.firstChannel ? (
        <div class="small muted">last: {channelLabel(v.lastChannel)}</div>
      ) : null}
    </td>
    <td class="num" data-label="touches">
      {num(v.touches)}
    </td>
    <td class="num" data-label="sessions">
      {num(v.sessions)}
    </td>
    <td class="hide-sm">{v.device ?? '–'}</td>
    <td class="nowrap" title={`${dateTime(v.lastSeen, timezoneOf(site))} ${timezoneOf(site)}`}>
      {ago(v.lastSeen, now)}
      <div class="small muted hide-sm">first {dateTime(v.firstSeen, timezoneOf(site))}</div>
    </td>
  </tr>
);

export const VisitorsPage = ({ site, filters, rangeQuery, visitors, cursor, paged, now, flash }: VisitorsPageProps) => {
  const base = sitePath(site.id, 'visitors');
  const keep = {
    ...rangeQuery,
    stage: filters.stage,
    channel: filters.channel,
    lastChannel: filters.lastChannel,
    device: filters.device,
    identified: filters.identified === undefined ? undefined : String(filters.identified),
    converted: filters.converted === undefined ? undefined : String(filters.converted),
    q: filters.q,
  };
  const converted = filters.converted === undefined ? '' : String(filters.converted);
  const identified = filters.identified === undefined ? '' : String(filters.identified);
  const filtered =
    filters.stage ||
    filters.channel ||
    filters.lastChannel ||
    filters.device ||
    filters.identified !== undefined ||
    filters.converted !== undefined ||
    filters.q;
  return (
    <>
      {flash}
      <div class="card">
        <form class="filters" method="get" action={base} role="search">
          {Object.entries(rangeQuery).map(([k, v]) => (v ? <input type="hidden" name={k} value={v} /> : null))}
          <label class="grow">
            Visitor or user id
            <input type="search" name="q" value={filters.q ?? ''} placeholder="prefix of a visitor id or user id" />
          </label>
          <Filter
            label="Current stage"
            name="stage"
            value={filters.stage}
            choices={site.stages.map((s) => [s.name, s.name])}
          />
          <Filter label="First channel" name="channel" value={filters.channel} choices={CHANNEL_CHOICES} />
          <Filter label="Last channel" name="lastChannel" value={filters.lastChannel} choices={CHANNEL_CHOICES} />
          <Filter label="Device" name="device" value={filters.device} choices={DEVICE_CLASSES.map((d) => [d, d])} />
          <label>
            Identified
            <select name="identified" data-autosubmit="">
              <Option value="" label="any" selected={identified} />
              <Option value="true" label="yes" selected={identified} />
              <Option value="false" label="no" selected={identified} />
            </select>
          </label>
          <label>
            Converted
            <select name="converted" data-autosubmit="">
              <Option value="" label="any" selected={converted} />
              <Option value="true" label="yes" selected={converted} />
              <Option value="false" label="no" selected={converted} />
            </select>
          </label>
          <button class="btn primary" type="submit">
            Filter
          </button>
          {filtered ? (
            <a class="btn" href={`${base}${qs(rangeQuery)}`}>
              Clear
            </a>
          ) : null}
        </form>
      </div>
      <div class="card">
        {visitors.length === 0 ? (
          <p class="empty">No visitors match these filters in this range.</p>
        ) : (
          <div class="table-wrap">
            <table class="cards" data-testid="visitors">
              <thead>
                <tr>
                  <th>visitor</th>
                  <th>stage</th>
                  <th>converted</th>
                  <th>channel</th>
                  <th class="num">touches</th>
                  <th class="num hide-sm">sessions</th>
                  <th class="hide-sm">device</th>
                  <th>last seen</th>
                </tr>
              </thead>
              <tbody>
                {visitors.map((v) => (
                  <VisitorRow site={site} v={v} now={now} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        <div class="pager">
          <span>
            {paged ? (
              <a class="btn" href={`${base}${qs(keep)}`}>
                ← First page
              </a>
            ) : null}
          </span>
          <span class="muted small">{num(visitors.length)} shown</span>
          <span>
            {cursor ? (
              <a class="btn" rel="next" href={`${base}${qs({ ...keep, cursor })}`}>
                Next page →
              </a>
            ) : null}
          </span>
        </div>
      </div>
    </>
  );
};

export const visitorsPage = (o: VisitorsPageProps): Html => <VisitorsPage {...o} />;
