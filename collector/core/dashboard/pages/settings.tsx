/**
 * Site settings: the tag snippet, name / origins / session timeout, the stage model, automation rules and their
 * webhook deliveries (issue 7's store methods), and server-side write keys (issue 9's store methods).
 */
import type { Delivery } from '../../automation/types';
import type { Rule } from '../../automation/rules';
import { MAX_RETENTION_DAYS, type SiteConfig, type StageTemplate } from '../../stages';
import type { AuditEntry, WriteKey } from '../../store';
import { RevokeCell, ShownOnce } from '../credentials';
import { ago, dateTime, type Html } from '../format';
import { sitePath } from '../layout';
import { stageDraft, type StageDraft } from '../stage-draft';
import { StagesForm, type StagesError } from '../stages-form';
import { TemplatePicker } from '../template-picker';
import { timeZoneNames, timezoneOf } from '../../timezone';
import { AuditLog } from './audit';

export interface SettingsData {
  site: SiteConfig;
  collectorUrl: string;
  rules: Rule[] | null;
  deliveries: Delivery[] | null;
  keys: WriteKey[] | null;
  /** The latest entries of the audit log, newest first. */
  audit: AuditEntry[];
  now: number;
  flash?: Html;
  /** A write key just created: its secret, shown once. */
  newKey?: { name: string; key: string };
  /** Why a new rule was refused. */
  ruleError?: string;
  /** Values to re-show after a refused save. */
  draft?: { stages?: StageDraft[]; conversion?: string };
  /** Why the stages were not saved (the field its path names is marked). */
  stagesError?: StagesError;
  /** The stage templates of the picker (services/templates.ts). */
  templates?: readonly StageTemplate[];
}

const triggerText = (r: Rule): string => {
  const t = r.trigger;
  if (t.type === 'stage_entered') return `enters ${t.stage}`;
  if (t.type === 'event') return `event ${t.event}`;
  const without = t.notReached?.length ? ` without reaching ${t.notReached.join(' / ')}` : '';
  return `${t.idle ? 'idle' : 'stays'} in ${t.stages.join(' / ')}${without} for ${t.after} → ${t.emit}`;
};

const statusClass = (s: string) => (s === 'delivered' ? 'good' : s === 'failed' || s === 'gave_up' ? 'poor' : 'ni');

const InstallTag = ({ snippet }: { snippet: string }) => (
  <div class="card">
    <h2>Install the tag</h2>
    <p class="muted">
      Paste this into every page of the site, before <code>&lt;/head&gt;</code>:
    </p>
    <pre class="snippet" id="snippet" data-testid="snippet">
      {snippet}
    </pre>
    <div class="actions">
      <button class="btn" type="button" data-copy="snippet">
        Copy
      </button>
      <span class="muted small">
        Then <code>cjm('track', 'add_to_cart')</code>, <code>cjm('stage', 'checkout')</code>,{' '}
        <code>cjm('identify', userId)</code>, <code>cjm('feedback', 4)</code>.
      </span>
    </div>
  </div>
);

const SiteForm = ({ site, base }: { site: SiteConfig; base: string }) => (
  <div class="card">
    <h2>Site</h2>
    <form method="post" action={`${base}/site`}>
      <div class="form-row">
        <label for="name">Name</label>
        <input id="name" type="text" name="name" value={site.name} maxlength={100} />
      </div>
      <div class="form-row">
        <label for="origins">Allowed origins</label>
        <textarea id="origins" name="origins" rows={3} placeholder="https://shop.example">
          {site.origins.join('\n')}
        </textarea>
        <span class="hint">One per line. Only pages from these origins may send events; empty: any origin.</span>
      </div>
      <div class="form-row">
        <label for="timeout">Session timeout (minutes)</label>
        <input
          id="timeout"
          type="number"
          name="sessionTimeoutMinutes"
          min="1"
          max="1440"
          value={site.sessionTimeoutMinutes}
        />
      </div>
      <div class="form-row">
        <label for="retention">Keep visitor details (days)</label>
        <input
          id="retention"
          type="number"
          name="retentionDays"
          min="1"
          max={String(MAX_RETENTION_DAYS)}
          placeholder="keep everything"
          value={site.retentionDays ?? ''}
        />
        <span class="hint">
          Raw events, visitors and timelines of journeys inactive this long are deleted; the funnel and journey map keep
          their numbers. Empty: keep everything.
        </span>
      </div>
      <div class="form-row">
        <label for="timezone">Time zone</label>
        <input
          id="timezone"
          type="text"
          name="timezone"
          list="timezones"
          maxlength={64}
          autocomplete="off"
          value={timezoneOf(site)}
        />
        <datalist id="timezones">
          {timeZoneNames().map((z) => (
            <option value={z} />
          ))}
        </datalist>
        <span class="hint">
          Days, presets and every time shown are in this zone (an IANA name such as Europe/Berlin). Changing it recounts
          the journeys into the new zone's days, a few thousand per minute in the background.
        </span>
      </div>
      <button class="btn primary" type="submit">
        Save site
      </button>
    </form>
  </div>
);

const Rules = ({ site, base, rules }: { site: SiteConfig; base: string; rules: Rule[] | null }) => {
  if (rules === null) return <p class="muted">Automation is not available in this build.</p>;
  if (rules.length === 0)
    return (
      <p class="muted">
        No rules yet: “a visitor stays in cart or checkout without a purchase for 30 minutes → POST a webhook”. Create
        one below or with <code>POST /api/sites/{site.id}/rules</code> (docs/automation.md).
      </p>
    );
  return (
    <div class="table-wrap">
      <table data-testid="rules">
        <thead>
          <tr>
            <th>rule</th>
            <th>when</th>
            <th>webhook</th>
            <th>status</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <tr>
              <td>
                <strong>{r.name}</strong>
              </td>
              <td>{triggerText(r)}</td>
              <td class="mono small">{r.action.url}</td>
              <td>{r.enabled ? <span class="badge good">on</span> : <span class="badge">off</span>}</td>
              <td class="nowrap">
                <form method="post" action={`${base}/rules/${encodeURIComponent(r.id)}/toggle`}>
                  <button class="btn" type="submit">
                    {r.enabled ? 'Turn off' : 'Turn on'}
                  </button>
                </form>
                <form
                  method="post"
                  action={`${base}/rules/${encodeURIComponent(r.id)}/delete`}
                  data-confirm={`Delete the rule “${r.name}”?`}
                >
                  <button class="btn danger" type="submit">
                    Delete
                  </button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
};

/** The new-rule form: its trigger select shows one fieldset at a time (client.ts). */
const RuleForm = ({ site, base, open }: { site: SiteConfig; base: string; open: boolean }) => {
  const checks = (name: string) =>
    site.stages.map((st) => (
      <label class="check">
        <input type="checkbox" name={name} value={st.name} /> {st.name}
      </label>
    ));
  return (
    <details class="rule-new" open={open}>
      <summary class="btn">New rule</summary>
      <form method="post" action={`${base}/rules`} class="rule-form">
        <div class="form-row">
          <label for="rule-name">Name</label>
          <input id="rule-name" type="text" name="name" required maxlength={64} placeholder="Cart reminder" />
        </div>
        <div class="form-row">
          <label for="rule-type">When</label>
          <select id="rule-type" name="type" data-when-select="">
            <option value="stalled">a visitor stalls in a stage</option>
            <option value="stage_entered">a visitor enters a stage</option>
            <option value="event">an event arrives</option>
          </select>
        </div>
        <fieldset data-when="stalled">
          <legend>Stalls (“cart, no purchase within 30 minutes”)</legend>
          <div class="form-row">
            <span class="lbl">in any of</span>
            <div class="checks">{checks('stages')}</div>
          </div>
          <div class="form-row">
            <span class="lbl">without reaching</span>
            <div class="checks">{checks('notReached')}</div>
          </div>
          <div class="actions">
            <label>
              for <input type="text" name="after" value="30m" size={6} aria-label="Duration" />
            </label>
            <label class="check">
              <input type="checkbox" name="idle" value="true" /> only when idle
            </label>
            <label>
              then add the event <input type="text" name="emit" value="cart_abandoned" aria-label="Event to emit" />
            </label>
          </div>
        </fieldset>
        <fieldset data-when="stage_entered">
          <legend>Enters a stage</legend>
          <select name="stage" aria-label="Stage">
            {site.stages.map((st) => (
              <option value={st.name}>{st.name}</option>
            ))}
          </select>
        </fieldset>
        <fieldset data-when="event">
          <legend>An event arrives</legend>
          <input type="text" name="event" placeholder="signup_completed" aria-label="Event name" />
        </fieldset>
        <div class="form-row">
          <label for="rule-url">Then POST a webhook to</label>
          <input id="rule-url" type="url" name="url" required placeholder="https://hooks.example/cjm" />
        </div>
        <button class="btn primary" type="submit">
          Create rule
        </button>
      </form>
    </details>
  );
};

const Deliveries = ({ d }: { d: SettingsData }) => {
  if (!d.deliveries) return null;
  if (!d.deliveries.length) return <p class="muted small">No webhook deliveries yet.</p>;
  return (
    <>
      <h3>Recent webhook deliveries</h3>
      <div class="table-wrap">
        <table data-testid="deliveries">
          <thead>
            <tr>
              <th>when</th>
              <th>rule</th>
              <th>status</th>
              <th class="num">attempts</th>
              <th>last answer</th>
            </tr>
          </thead>
          <tbody>
            {d.deliveries.map((x) => (
              <tr>
                <td class="nowrap" title={`${dateTime(x.createdAt, timezoneOf(d.site))} ${timezoneOf(d.site)}`}>
                  {ago(x.createdAt, d.now)}
                </td>
                <td>{d.rules?.find((r) => r.id === x.rule)?.name ?? x.rule}</td>
                <td>
                  <span class={`badge ${statusClass(x.status)}`}>{x.status}</span>
                </td>
                <td class="num">{x.attempts}</td>
                <td class="small">
                  {x.lastStatus ?? ''} {x.lastError ?? ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
};

const WriteKeys = ({ d, base }: { d: SettingsData; base: string }) => {
  if (d.keys === null) return <p class="muted">Write keys are not available in this build.</p>;
  return (
    <>
      {d.newKey ? <ShownOnce label={`New key “${d.newKey.name}”.`} value={d.newKey.key} testId="new-key" /> : null}
      {d.keys.length ? (
        <div class="table-wrap">
          <table data-testid="write-keys">
            <thead>
              <tr>
                <th>name</th>
                <th>key</th>
                <th>created</th>
                <th>last used</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {d.keys.map((k) => (
                <tr>
                  <td>{k.name}</td>
                  <td class="mono">{k.prefix}…</td>
                  <td class="nowrap">{dateTime(k.createdAt, timezoneOf(d.site))}</td>
                  <td class="nowrap">{k.lastUsedAt ? ago(k.lastUsedAt, d.now) : 'never'}</td>
                  <td>
                    <RevokeCell
                      revokedAt={k.revokedAt}
                      now={d.now}
                      action={`${base}/keys/${encodeURIComponent(k.id)}/revoke`}
                      confirm={`Revoke the key “${k.name}”? Servers using it will be refused.`}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">No write keys. Server-side senders (your backend, Segment) authenticate with one.</p>
      )}
      <form class="filters" method="post" action={`${base}/keys`}>
        <label class="grow">
          Name
          <input type="text" name="name" required maxlength={100} placeholder="e.g. backend, segment" />
        </label>
        <button class="btn primary" type="submit">
          Create write key
        </button>
      </form>
    </>
  );
};

export const SettingsPage = ({ d }: { d: SettingsData }) => {
  const { site } = d;
  const base = sitePath(site.id, 'settings');
  const snippet = `<script>window.cjm=window.cjm||function(){(cjm.q=cjm.q||[]).push(arguments)}</script>
<script async src="${d.collectorUrl}/cjm.js" data-site="${site.id}"></script>`;
  const stages = d.draft?.stages ?? site.stages.map(stageDraft);
  return (
    <>
      {d.flash}
      <div class="grid2">
        <InstallTag snippet={snippet} />
        <SiteForm site={site} base={base} />
      </div>
      {d.templates ? <TemplatePicker base={base} site={site} templates={d.templates} /> : null}
      <StagesForm
        base={base}
        stages={stages}
        conversion={d.draft?.conversion ?? site.conversion}
        error={d.stagesError}
      />
      <div class="card" id="automation">
        <h2>Automation rules and webhooks</h2>
        {d.ruleError ? (
          <div class="error" role="alert">
            {d.ruleError}
          </div>
        ) : null}
        <Rules site={site} base={base} rules={d.rules} />
        {d.rules === null ? null : <RuleForm site={site} base={base} open={!!d.ruleError} />}
        <Deliveries d={d} />
      </div>
      <div class="card" id="write-keys">
        <h2>Write keys</h2>
        <WriteKeys d={d} base={base} />
      </div>
      <AuditLog site={site.id} entries={d.audit} now={d.now} tz={timezoneOf(site)} />
    </>
  );
};

export const settingsPage = (d: SettingsData): Html => <SettingsPage d={d} />;
