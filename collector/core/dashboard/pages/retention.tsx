/**
 * Cohort retention: one row per first-visit week (ISO weeks, in the site's time zone), one column per week since, each cell the share of
 * the cohort's journeys with a session starting that week (week 0 is the whole cohort), shaded by that share.
 */
import type { RetentionReport } from '../../reports';
import { num, type Html } from '../format';

/** Shade 0 … 5 of a share (0 … 1). */
const heatLevel = (share: number) => (share <= 0 ? 0 : Math.min(5, 1 + Math.floor(share * 4.999)));

const percent = (share: number | null) =>
  share === null ? '' : share === 0 ? '0%' : `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

export const RetentionPage = ({ report }: { report: RetentionReport }) => {
  const ks = Array.from({ length: report.weeks + 1 }, (_, k) => k);
  const journeys = report.cohorts.reduce((n, c) => n + c.journeys, 0);
  return (
    <>
      <div class="kpis">
        <div class="kpi">
          <div class="v">{num(report.cohorts.length)}</div>
          <div class="l">weekly cohorts</div>
        </div>
        <div class="kpi">
          <div class="v">{num(journeys)}</div>
          <div class="l">journeys in them</div>
        </div>
        <div class="kpi">
          <div class="v">{report.average[1] == null ? '–' : percent(report.average[1])}</div>
          <div class="l">active in week 1</div>
        </div>
        <div class="kpi">
          <div class="v">{report.average[4] == null ? '–' : percent(report.average[4])}</div>
          <div class="l">active in week 4</div>
        </div>
      </div>
      <div class="card table-wrap">
        <table class="heat retention" data-testid="cohort-retention">
          <thead>
            <tr>
              <th>first visit (week of)</th>
              <th class="num">journeys</th>
              {ks.map((k) => (
                <th class="num">week {k}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {report.cohorts.map((c) => (
              <tr data-week={c.week}>
                <th scope="row">{c.week}</th>
                <td class="num">{num(c.journeys)}</td>
                {c.share.map((s, k) =>
                  s === null ? (
                    <td class="h future" title="this week has not begun"></td>
                  ) : (
                    <td
                      class={`h h${heatLevel(s)}`}
                      data-k={String(k)}
                      title={`${num(c.active[k] ?? 0)} of ${num(c.journeys)} journeys`}
                    >
                      {percent(s)}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr data-week="average">
              <th scope="row">weighted average</th>
              <td class="num">{num(journeys)}</td>
              {report.average.map((s) =>
                s === null ? <td class="h future"></td> : <td class={`h h${heatLevel(s)}`}>{percent(s)}</td>,
              )}
            </tr>
          </tfoot>
        </table>
      </div>
      <p class="muted small">
        A cohort is the journeys whose first session started in that ISO week (Monday to Sunday, in the site's time
        zone); week k is the share of them with a session starting k weeks later. The range picks the cohort weeks it
        overlaps.
      </p>
    </>
  );
};

export const retentionPage = (report: RetentionReport): Html => <RetentionPage report={report} />;
