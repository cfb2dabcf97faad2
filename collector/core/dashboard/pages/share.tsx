/**
 * The frame of a share link's pages: the site's name, the report tabs (the views of routes/dashboard/views.ts), the
 * range picker, and nothing that leads into the dashboard. `Document` with `shared` adds no-referrer and noindex.
 */
import type { DashboardAssets } from '../assets';
import type { Html } from '../format';
import { Document, pageHead, rangePicker } from '../layout';
import type { Range } from '../range';

export interface ShareFrame {
  title: string;
  siteName: string;
  /** `/share/<secret>`: the tabs' links. */
  base: string;
  tabs: Array<{ path: string; label: string; current: boolean }>;
  range: Range;
  path: string;
  sub: Html;
  body: Html;
  assets: DashboardAssets;
}

export const sharePage = (f: ShareFrame): Html => (
  <Document title={`${f.title} · ${f.siteName}`} assets={f.assets} shared>
    <header class="top">
      <div class="top-inner">
        <span class="brand">cjm</span>
        <strong>{f.siteName}</strong>
        <nav class="nav" aria-label="Reports">
          {f.tabs.map((t) => (
            <a href={t.path} aria-current={t.current ? 'page' : undefined}>
              {t.label}
            </a>
          ))}
        </nav>
        <span class="spacer"></span>
        <span class="muted small">shared, read-only</span>
      </div>
    </header>
    <main data-testid="shared">
      {pageHead(f.title, f.sub, rangePicker(f.path, f.range))}
      {f.body}
    </main>
  </Document>
);

/** The password form of a protected share link. */
export const sharePasswordPage = (
  action: string,
  error: string | null,
  assets: DashboardAssets,
  status: { tooMany?: boolean } = {},
): Html => (
  <Document title="Shared view" assets={assets} shared>
    <div class="login">
      <div class="brand">cjm</div>
      <div class="card">
        <h1>Shared view</h1>
        <p class="muted">This view is protected by a password.</p>
        {error ? (
          <div class="error" role="alert">
            {error}
          </div>
        ) : null}
        {status.tooMany ? null : (
          <form method="post" action={action}>
            <label for="share-password">
              <strong>Password</strong>
            </label>
            <input id="share-password" type="password" name="password" required autofocus />
            <button class="btn primary" type="submit">
              Open
            </button>
          </form>
        )}
      </div>
    </div>
  </Document>
);

/** A share link that does not work (unknown, revoked or expired): one answer for all three. */
export const shareGonePage = (assets: DashboardAssets): Html => (
  <Document title="Shared view" assets={assets} shared>
    <div class="login">
      <div class="brand">cjm</div>
      <div class="card">
        <h1>This link does not work</h1>
        <p class="muted">It is unknown, revoked or expired. Ask whoever shared it for a new one.</p>
      </div>
    </div>
  </Document>
);
