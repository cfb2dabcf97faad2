/**
 * What the pages that hand out secrets share (write keys in settings, personal API tokens in the account, share links
 * in the team page): the flash that shows a new secret once, and the cell that says revoked, expired, or offers to
 * revoke.
 */
import { dateTime } from './format';

/** A new secret, shown once (`label` is e.g. `New key “backend”.`). */
export const ShownOnce = ({ label, value, testId }: { label: string; value: string; testId: string }) => (
  <div class="flash" role="status">
    <strong>{label}</strong> Copy it now, it is shown only once:
    <pre class="snippet" data-testid={testId}>
      {value}
    </pre>
  </div>
);

/** Revoked (when), expired, or a revoke button posting to `action` after `confirm`. */
export const RevokeCell = ({
  revokedAt,
  expiresAt = null,
  now,
  action,
  confirm,
}: {
  revokedAt: number | null;
  expiresAt?: number | null;
  now: number;
  action: string;
  confirm: string;
}) =>
  revokedAt ? (
    <span class="badge poor">revoked {dateTime(revokedAt)}</span>
  ) : expiresAt !== null && expiresAt <= now ? (
    <span class="badge">expired</span>
  ) : (
    <form method="post" action={action} data-confirm={confirm}>
      <button class="btn danger" type="submit">
        Revoke
      </button>
    </form>
  );
