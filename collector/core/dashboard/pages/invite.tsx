/**
 * The invite page (`/invite/<secret>`): for someone signed in as a user, accept the role; otherwise create an account
 * (e-mail and a password) — or sign in first to add the role to an existing one.
 */
import type { Invite } from '../../store';
import type { DashboardAssets } from '../assets';
import { dateTime, type Html } from '../format';
import { plainPage } from '../layout';

export interface InviteView {
  invite: Invite;
  /** The site's name; null for an instance-owner invite. */
  siteName: string | null;
  action: string;
  /** The signed-in user's e-mail, when one is. */
  signedInAs: string | null;
  error?: string;
  email?: string;
}

const what = (v: InviteView) =>
  v.siteName === null ? (
    <>
      an account that <strong>owns this cjm instance</strong> (every site)
    </>
  ) : (
    <>
      the <strong>{v.invite.role}</strong> role on <strong>{v.siteName}</strong>
    </>
  );

export const invitePage = (v: InviteView, assets: DashboardAssets): Html =>
  plainPage(
    'Invite',
    assets,
    <>
      <h1>You are invited</h1>
      <p>
        This link gives {what(v)}. It works once, until {dateTime(v.invite.expiresAt)} UTC.
      </p>
      {v.error ? (
        <div class="error" role="alert">
          {v.error}
        </div>
      ) : null}
      {v.signedInAs ? (
        <form method="post" action={v.action} data-testid="accept-invite">
          <input type="hidden" name="accept" value="1" />
          <p class="muted">
            Signed in as <strong>{v.signedInAs}</strong>.
          </p>
          <button class="btn primary" type="submit">
            Accept
          </button>
        </form>
      ) : (
        <>
          <form method="post" action={v.action} data-testid="create-account">
            <div class="form-row">
              <label for="email">E-mail</label>
              <input id="email" type="email" name="email" value={v.email ?? ''} autocomplete="username" required />
            </div>
            <div class="form-row">
              <label for="password">Password</label>
              <input
                id="password"
                type="password"
                name="password"
                autocomplete="new-password"
                minlength={10}
                required
              />
              <span class="hint">10 characters or more.</span>
            </div>
            <button class="btn primary" type="submit">
              Create account and accept
            </button>
          </form>
          <p class="muted small">
            Have an account? <a href={`/login?next=${encodeURIComponent(v.action)}`}>Sign in first</a>, then open this
            link again.
          </p>
        </>
      )}
    </>,
  );

/** An invite link that does not work (unknown, used, revoked, expired): what happened and what to do. */
export const inviteGonePage = (message: string, assets: DashboardAssets): Html =>
  plainPage(
    'Invite',
    assets,
    <>
      <h1>This invite link does not work</h1>
      <p class="error" role="alert">
        {message}
      </p>
    </>,
  );
