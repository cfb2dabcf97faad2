/**
 * The account page: who is signed in and their role per site, the password form, "sign out everywhere", personal
 * API tokens (shown once, listed with their last use, revocable) and, for the instance owner, an invite link for
 * another instance owner (the Worker's way to its first user).
 */
import { ROLES, type Role } from '../../access';
import type { ApiToken } from '../../store';
import type { DashboardAssets } from '../assets';
import { RevokeCell, ShownOnce } from '../credentials';
import { ago, dateTime, type Html } from '../format';
import { Document, sitePath } from '../layout';

export interface AccountData {
  /** An e-mail, or null for the admin token. */
  email: string | null;
  instanceOwner: boolean;
  /** The sites the actor has a role on. */
  sites: Array<{ id: string; name: string; role: Role }>;
  tokens: ApiToken[] | null;
  now: number;
  flash?: Html;
  /** A token just created: its secret, shown once. */
  newToken?: { name: string; token: string };
  /** An instance-owner invite just created: its link, shown once. */
  ownerInvite?: string;
  /** Why the password form was refused. */
  passwordError?: string;
  /** Why the token form was refused. */
  tokenError?: string;
}

/** The frame of pages outside a site (the account page): the brand, a way back, sign-out. */
export const SimpleShell = ({
  title,
  assets,
  who,
  children,
}: {
  title: string;
  assets: DashboardAssets;
  who: string;
  children: Html;
}) => (
  <Document title={title} assets={assets}>
    <header class="top">
      <div class="top-inner">
        <a class="brand" href="/">
          cjm
        </a>
        <nav class="nav" aria-label="Pages">
          <a href="/">Dashboard</a>
          <a href="/account" aria-current="page">
            Account
          </a>
        </nav>
        <span class="spacer"></span>
        <span class="account-link">{who}</span>
        <form class="signout" method="post" action="/logout">
          <button type="submit">Sign out</button>
        </form>
      </div>
    </header>
    <main>{children}</main>
  </Document>
);

const Tokens = ({ d }: { d: AccountData }) => {
  if (d.tokens === null) {
    return (
      <p class="muted">
        Personal API tokens belong to users. The admin token is a token already: scripts send it as{' '}
        <code>Authorization: Bearer …</code>.
      </p>
    );
  }
  return (
    <>
      {d.newToken ? (
        <ShownOnce label={`New token “${d.newToken.name}”.`} value={d.newToken.token} testId="new-token" />
      ) : null}
      {d.tokenError ? (
        <div class="error" role="alert">
          {d.tokenError}
        </div>
      ) : null}
      {d.tokens.length ? (
        <div class="table-wrap">
          <table data-testid="tokens">
            <thead>
              <tr>
                <th>name</th>
                <th>token</th>
                <th>role</th>
                <th>site</th>
                <th>expires</th>
                <th>last used</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {d.tokens.map((t) => (
                <tr>
                  <td>{t.name}</td>
                  <td class="mono">{t.prefix}…</td>
                  <td>{t.role}</td>
                  <td>{t.site ?? 'all my sites'}</td>
                  <td class="nowrap">{t.expiresAt ? dateTime(t.expiresAt) : 'never'}</td>
                  <td class="nowrap">{t.lastUsedAt ? ago(t.lastUsedAt, d.now) : 'never'}</td>
                  <td>
                    <RevokeCell
                      revokedAt={t.revokedAt}
                      expiresAt={t.expiresAt}
                      now={d.now}
                      action={`/account/tokens/${encodeURIComponent(t.id)}/revoke`}
                      confirm={`Revoke the token “${t.name}”? Scripts using it will be refused.`}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">
          No tokens. A script reads the API with one: <code>Authorization: Bearer cjm_pat_…</code>
        </p>
      )}
      <form class="filters" method="post" action="/account/tokens">
        <label class="grow">
          Name
          <input type="text" name="name" required maxlength={100} placeholder="e.g. weekly report" />
        </label>
        <label>
          Role (at most yours)
          <select name="role">
            {ROLES.map((r) => (
              <option value={r} selected={r === 'viewer'}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Site
          <select name="site">
            <option value="">all my sites</option>
            {d.sites.map((s) => (
              <option value={s.id}>{s.name === s.id ? s.id : `${s.name} (${s.id})`}</option>
            ))}
          </select>
        </label>
        <label>
          Expires in (days)
          <input type="number" name="expiresInDays" min="1" max="3650" placeholder="never" />
        </label>
        <button class="btn primary" type="submit">
          Create token
        </button>
      </form>
    </>
  );
};

export const AccountPage = ({ d }: { d: AccountData }) => (
  <>
    <div class="page-head">
      <div>
        <h1>Your account</h1>
        <p class="muted small">
          {d.email ? (
            <>
              Signed in as <strong>{d.email}</strong>
              {d.instanceOwner ? ' · instance owner' : ''}
            </>
          ) : (
            'Signed in with the admin token · instance owner'
          )}
        </p>
      </div>
    </div>
    {d.flash}
    <div class="grid2">
      <div class="card">
        <h2>Your sites</h2>
        {d.sites.length ? (
          <ul data-testid="my-sites">
            {d.sites.map((s) => (
              <li>
                <a href={sitePath(s.id, 'map')}>{s.name}</a> <span class="badge">{s.role}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">No role on any site yet: ask a site's owner or admin for an invite link.</p>
        )}
      </div>
      <div class="card">
        <h2>Sessions</h2>
        <p class="muted">
          Signs out every other browser and device where you are signed in{d.email ? '' : ' with the admin token'}. This
          one stays signed in.
        </p>
        <form method="post" action="/account/sign-out-everywhere">
          <button class="btn danger" type="submit" data-testid="sign-out-everywhere">
            Sign out everywhere else
          </button>
        </form>
      </div>
    </div>
    {d.email ? (
      <div class="card" id="password">
        <h2>Password</h2>
        {d.passwordError ? (
          <div class="error" role="alert">
            {d.passwordError}
          </div>
        ) : null}
        <form method="post" action="/account/password">
          <div class="form-row">
            <label for="current">Current password</label>
            <input id="current" type="password" name="current" autocomplete="current-password" required />
          </div>
          <div class="form-row">
            <label for="new-password">New password</label>
            <input
              id="new-password"
              type="password"
              name="password"
              autocomplete="new-password"
              minlength={10}
              required
            />
            <span class="hint">10 characters or more. Every other session of yours is signed out.</span>
          </div>
          <button class="btn primary" type="submit">
            Change password
          </button>
        </form>
      </div>
    ) : null}
    <div class="card" id="tokens">
      <h2>Personal API tokens</h2>
      <Tokens d={d} />
    </div>
    {d.instanceOwner ? (
      <div class="card" id="owner-invite">
        <h2>Another instance owner</h2>
        <p class="muted">
          A one-time link (valid 24 hours) that makes an account owning every site. Invites to one site are on its Team
          tab.
        </p>
        {d.ownerInvite ? (
          <pre class="snippet" data-testid="owner-invite">
            {d.ownerInvite}
          </pre>
        ) : null}
        <form method="post" action="/account/owner-invite">
          <button class="btn" type="submit">
            Create an instance-owner invite
          </button>
        </form>
      </div>
    ) : null}
  </>
);

/** The account page in its frame. */
export const accountPage = (d: AccountData, assets: DashboardAssets, who: string): Html => (
  <SimpleShell title="Account" assets={assets} who={who}>
    <AccountPage d={d} />
  </SimpleShell>
);
