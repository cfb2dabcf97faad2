/**
 * The dashboard's stylesheet and script are real files beside this one (dashboard.css, client.ts). `npm run build`
 * (rollup.config.mjs) minifies them into dist/assets/ under names that carry a hash of their content
 * (`dashboard.3f2a9c1d.css`), and writes dist/assets/manifest.json, which maps `dashboard.css` and `dashboard.js` to
 * those names' URL paths.
 *
 * The core reads no files: it asks the runtime's static-file source (`AppOptions.asset`) for the manifest and for the
 * files, by URL path. Node serves dist/assets/ from disk (collector/node.ts `fileAssets`, so a rebuild shows at the
 * next page load); the Worker fetches the same paths from its ASSETS binding, to which scripts/worker.ts
 * `assembleAssets` copies dist/assets/. Pages link the hashed names, which are cached for a year: a new build changes
 * the names, never what a name serves.
 */

/** A static file by URL path, or null: the runtime's `AppOptions.asset` for this request. */
export type ReadAsset = (path: string) => Promise<Response | null>;

/** URL paths of the built stylesheet and script; null when the build is missing (the pages then work without). */
export interface DashboardAssets {
  css: string | null;
  js: string | null;
}

/** Where the build's manifest is among the static files (dist/assets/manifest.json). */
export const MANIFEST_PATH = '/assets/manifest.json';

/** The names the build gives the files: `/assets/dashboard.<8 hex digits>.<css|js>`. */
const HASHED = /^\/assets\/dashboard\.[0-9a-f]{8}\.(css|js)$/;
const kindOf = (path: string): 'css' | 'js' | null => {
  const ext = HASHED.exec(path)?.[1];
  return ext === 'css' || ext === 'js' ? ext : null;
};

const TYPES = { css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8' } as const;

/** One warning per process, not one per page, when the build is missing. */
let warned = false;
const missing = (why: string): DashboardAssets => {
  if (!warned) {
    warned = true;
    console.warn(`[cjm] the dashboard is served without its stylesheet and script: ${why}; run npm run build`);
  }
  return { css: null, js: null };
};

/** The hashed URL paths of this build's stylesheet and script, from the manifest. */
export const dashboardAssets = async (read: ReadAsset): Promise<DashboardAssets> => {
  const res = await read(MANIFEST_PATH);
  if (!res) return missing(`${MANIFEST_PATH} is not among the static files`);
  let manifest: unknown;
  try {
    manifest = await res.json();
  } catch {
    return missing(`${MANIFEST_PATH} is not JSON`);
  }
  const entry = (name: string, ext: 'css' | 'js') => {
    const path = typeof manifest === 'object' && manifest !== null ? (manifest as Record<string, unknown>)[name] : null;
    return typeof path === 'string' && kindOf(path) === ext ? path : null;
  };
  const css = entry('dashboard.css', 'css');
  const js = entry('dashboard.js', 'js');
  if (!css || !js) return missing(`${MANIFEST_PATH} does not name dashboard.css and dashboard.js`);
  return { css, js };
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The response for `/assets/<file>`, or null when it is not one of the dashboard's files: a hashed name is served as
 * it is, cached for a year; the stable names `dashboard.css` and `dashboard.js` serve the current build's file and are
 * revalidated every time (for links made without the manifest).
 */
export const dashboardAsset = async (file: string, read: ReadAsset): Promise<Response | null> => {
  let path = `/assets/${file}`;
  let cacheControl = IMMUTABLE;
  if (file === 'dashboard.css' || file === 'dashboard.js') {
    const built = (await dashboardAssets(read))[file === 'dashboard.css' ? 'css' : 'js'];
    if (!built) return null;
    path = built;
    cacheControl = 'no-cache';
  }
  const kind = kindOf(path);
  const res = kind ? await read(path) : null;
  if (!kind || !res) return null;
  const out = new Response(res.body, res);
  out.headers.set('Content-Type', TYPES[kind]);
  out.headers.set('Cache-Control', cacheControl);
  return out;
};

/** The dashboard's icon (the logo), so browsers do not ask for a missing /favicon.ico. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="6" fill="#151a2d"/><path d="M5 17 L12 10 L19 6" stroke="#8b93ff" stroke-width="2" fill="none"/><circle cx="5" cy="17" r="2.6" fill="#8b93ff"/><circle cx="12" cy="10" r="2.6" fill="#a5abff"/><circle cx="19" cy="6" r="2.6" fill="#fff"/></svg>`;
