/**
 * The team tab of a site (admins and up): its members and their roles (changed and removed by an owner), pending
 * invites and the form that makes one (a role up to one's own), and share links (public, read-only views of the
 * journey map and funnel) with the form that makes one.
 */
import { ROLES, roleRank, type Role } from '../../access';
import type { Invite, Membership, ShareLink } from '../../store';
import { RevokeCell, ShownOnce } from '../credentials';
import { ago, dateTime, type Html } from '../format';
import { sitePath } from '../layout';

export interface TeamData {
  site: string;
  /** The viewer's own role on the site. */
  role: Role;
  /** Owners change roles and remove members. */
  manage: boolean;
  members: Membership[];
  invites: Invite[];
  shares: ShareLink[];
  now: number;
  flash?: Html;
  /** An invite or share link just made: shown once. */
  newInvite?: { url: string; role: Role };
  newShare?: { url: string; name: string };
  inviteError?: string;
  shareError?: string;
}

const RoleSelect = ({ name, upTo, selected }: { name: string; upTo: Role; selected: Role }) => (
  <select name={name} aria-label="Role">
    {ROLES.filter((r) => roleRank(r) <= roleRank(upTo)).map((r) => (
      <option value={r} selected={r === selected}>
        {r}
      </option>
    ))}
  </select>
);

const Members = ({ d, base }: { d: TeamData; base: string }) =>
  d.members.length === 0 ? (
    <p class="muted">No members yet: invite someone below.</p>
  ) : (
    <div class="table-wrap">
      <table data-testid="members">
        <thead>
          <tr>
            <th>member</th>
            <th>role</th>
            <th>since</th>
            {d.manage ? <th></th> : null}
          </tr>
        </thead>
        <tbody>
          {d.members.map((m) => (
            <tr data-member={m.email}>
              <td>{m.email}</td>
              <td>
                {d.manage ? (
                  <form method="post" action={`${base}/members/${encodeURIComponent(m.userId)}/role`} class="inline">
                    <RoleSelect name="role" upTo="owner" selected={m.role} />{' '}
                    <button class="btn" type="submit">
                      Change
                    </button>
                  </form>
                ) : (
                  <span class="badge">{m.role}</span>
                )}
              </td>
              <td class="nowrap">{dateTime(m.createdAt)}</td>
              {d.manage ? (
                <td>
                  <form
                    method="post"
                    action={`${base}/members/${encodeURIComponent(m.userId)}/remove`}
                    data-confirm={`Remove ${m.email} from this site?`}
                  >
                    <button class="btn danger" type="submit">
                      Remove
                    </button>
                  </form>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );

const Invites = ({ d, base }: { d: TeamData; base: string }) => (
  <>
    {d.newInvite ? (
      <div class="flash" role="status">
        <strong>Invite link ({d.newInvite.role}).</strong> Send it to the person; it works once, for 7 days, and is
        shown only now:
        <pre class="snippet" data-testid="new-invite">
          {d.newInvite.url}
        </pre>
      </div>
    ) : null}
    {d.inviteError ? (
      <div class="error" role="alert">
        {d.inviteError}
      </div>
    ) : null}
    {d.invites.length ? (
      <div class="table-wrap">
        <table data-testid="invites">
          <thead>
            <tr>
              <th>role</th>
              <th>created</th>
              <th>expires</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {d.invites.map((i) => (
              <tr>
                <td>{i.role}</td>
                <td class="nowrap">{ago(i.createdAt, d.now)}</td>
                <td class="nowrap">{dateTime(i.expiresAt)}</td>
                <td>
                  <form method="post" action={`${base}/invites/${encodeURIComponent(i.id)}/revoke`}>
                    <button class="btn danger" type="submit">
                      Revoke
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    ) : (
      <p class="muted small">No pending invites.</p>
    )}
    <form class="filters" method="post" action={`${base}/invites`}>
      <label>
        Role
        <RoleSelect name="role" upTo={d.role} selected="viewer" />
      </label>
      <button class="btn primary" type="submit">
        Create invite link
      </button>
    </form>
  </>
);

const Shares = ({ d, base }: { d: TeamData; base: string }) => (
  <>
    {d.newShare ? (
      <ShownOnce label={`Share link “${d.newShare.name}”.`} value={d.newShare.url} testId="new-share" />
    ) : null}
    {d.shareError ? (
      <div class="error" role="alert">
        {d.shareError}
      </div>
    ) : null}
    {d.shares.length ? (
      <div class="table-wrap">
        <table data-testid="shares">
          <thead>
            <tr>
              <th>name</th>
              <th>link</th>
              <th>password</th>
              <th>expires</th>
              <th>last viewed</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {d.shares.map((s) => (
              <tr>
                <td>{s.name}</td>
                <td class="mono">/share/{s.prefix}…</td>
                <td>{s.hasPassword ? 'yes' : 'no'}</td>
                <td class="nowrap">{s.expiresAt ? dateTime(s.expiresAt) : 'never'}</td>
                <td class="nowrap">{s.lastViewedAt ? ago(s.lastViewedAt, d.now) : 'never'}</td>
                <td>
                  <RevokeCell
                    revokedAt={s.revokedAt}
                    expiresAt={s.expiresAt}
                    now={d.now}
                    action={`${base}/shares/${encodeURIComponent(s.id)}/revoke`}
                    confirm={`Revoke the share link “${s.name}”? It stops working at once.`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    ) : (
      <p class="muted small">No share links.</p>
    )}
    <form class="filters" method="post" action={`${base}/shares`}>
      <label class="grow">
        Name
        <input type="text" name="name" required maxlength={100} placeholder="e.g. agency" />
      </label>
      <label>
        Password (optional)
        <input type="password" name="password" autocomplete="new-password" minlength={10} />
      </label>
      <label>
        Expires in (days)
        <input type="number" name="expiresInDays" min="1" max="3650" placeholder="never" />
      </label>
      <button class="btn primary" type="submit">
        Create share link
      </button>
    </form>
  </>
);

export const TeamPage = ({ d }: { d: TeamData }) => {
  const base = sitePath(d.site, 'team');
  return (
    <>
      {d.flash}
      <div class="card" id="members">
        <h2>Members</h2>
        <p class="muted small">
          viewer: the journey map and funnel · analyst: also visitors, timelines, export · admin: also settings, keys,
          rules, erasing, share links, invites · owner: also members.
        </p>
        <Members d={d} base={base} />
      </div>
      <div class="card" id="invites">
        <h2>Invites</h2>
        <Invites d={d} base={base} />
      </div>
      <div class="card" id="shares">
        <h2>Share links</h2>
        <p class="muted small">
          A public, read-only view of this site's journey map and funnel — aggregates only, never a visitor.
        </p>
        <Shares d={d} base={base} />
      </div>
    </>
  );
};

export const teamPage = (d: TeamData): Html => <TeamPage d={d} />;
