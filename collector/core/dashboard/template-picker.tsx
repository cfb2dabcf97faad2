/**
 * "Start from a template" on the settings page: each stage template (stages.ts STAGE_TEMPLATES, listed by
 * services/templates.ts) with its stages, their rules and the conversion, and a button that applies it (POST
 * …/settings/template, the service of `PUT /api/sites/:site/template`). The button's form asks for confirmation
 * with the client script (data-confirm) and says, with or without it, that the journeys will be refolded.
 */
import type { SiteConfig, StageDef, StageTemplate } from '../stages';
import { stageDraft } from './stage-draft';
import { conditionWords } from './stages-form';

/** True when the site's model is exactly the template's. */
export const isModelOf = (site: Pick<SiteConfig, 'stages' | 'conversion'>, t: StageTemplate): boolean =>
  site.conversion === t.conversion && JSON.stringify(site.stages) === JSON.stringify(t.stages);

/** What enters a stage, in words: its URL patterns, event names and conditions. */
const ruleWords = (s: StageDef): string[] => {
  const out: string[] = [];
  if (s.urls?.length) out.push(`pages ${s.urls.join(', ')}`);
  if (s.events?.length) out.push(`events ${s.events.join(', ')}`);
  out.push(...conditionWords(stageDraft(s)));
  return out;
};

export const TemplatePicker = ({
  base,
  site,
  templates,
}: {
  base: string;
  site: SiteConfig;
  templates: readonly StageTemplate[];
}) => (
  <div class="card" id="templates">
    <h2>Start from a template</h2>
    <p class="muted">
      Ready-made stage models with rules for the events a typical shop sends (<code>purchase</code>,{' '}
      <code>review_submitted</code>, <code>referral_sent</code>, <code>subscription_renewed</code>) and for returning
      visitors. Applying one replaces the stages and the conversion below; every journey of the site is then refolded
      from its events under the new model. Nothing is lost: you can adjust the stages afterwards or switch back.
    </p>
    <div class="templates" data-testid="templates">
      {templates.map((t) => {
        const current = isModelOf(site, t);
        return (
          <details class="template" data-template={t.id}>
            <summary>
              <strong>{t.title}</strong>
              {current ? <span class="badge good">in use</span> : null}
              <span class="muted small">{t.description}</span>
            </summary>
            <ol class="template-stages">
              {t.stages.map((s) => {
                const words = ruleWords(s);
                return (
                  <li>
                    <strong>{s.name}</strong>
                    {s.name === t.conversion ? <span class="badge good">conversion</span> : null}
                    <span class="small muted">
                      {words.length ? words.join(' · ') : "the first touch, or cjm('stage', name)"}
                    </span>
                  </li>
                );
              })}
            </ol>
            <form
              method="post"
              action={`${base}/template`}
              data-confirm={`Replace the ${site.stages.length} stages of “${site.name}” with the template “${t.title}”? Every journey of the site will be refolded under the new model.`}
            >
              <input type="hidden" name="template" value={t.id} />
              <button class="btn primary" type="submit" disabled={current}>
                {current ? 'In use' : 'Use this template'}
              </button>{' '}
              <span class="muted small">Replaces the stages and the conversion; the journeys will be refolded.</span>
            </form>
          </details>
        );
      })}
    </div>
  </div>
);
