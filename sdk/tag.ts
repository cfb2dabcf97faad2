/**
 * Entry of dist/cjm.js, the script tag:
 *   <script async src="https://host/cjm.js" data-site="shop"></script>
 * Reads the data-* attributes of its own <script>, starts a tracker, turns `window.cjm` into a function with
 * the tracker's methods attached (`cjm('track', 'x')` and `cjm.track('x')`), then replays the calls the
 * pre-load stub queued in `cjm.q`, in order. A second copy of the tag does nothing.
 */
import { createTracker, type Options, type Tracker } from './index';
import { safe } from './safe';

type Cjm = ((command: keyof Tracker, ...args: unknown[]) => unknown) & Partial<Tracker> & { q?: ArrayLike<unknown>[] };

declare global {
  interface Window {
    cjm?: Cjm;
  }
}

safe(() => {
  const w = window,
    d = document,
    q = w.cjm;
  const s = d.currentScript as HTMLScriptElement,
    a = s.dataset;
  if (q?.track || !a.site) return;
  // data-auto and data-respect-dnt arrive as strings: createTracker reads "false" as false.
  const t = createTracker({
    ...(a as unknown as Options),
    // A URL object: fetch and sendBeacon take it as its string.
    endpoint: a.api || (new URL('/collect', s.src) as unknown as string),
    hash: a.hash != null,
  });
  const c = (w.cjm = Object.assign(
    safe((command: keyof Tracker, ...args: unknown[]) => (t[command] as (...a: unknown[]) => unknown)(...args)),
    t,
  ));
  if (a.vitals != null)
    d.head.appendChild(d.createElement('script')).src = new URL('cjm.vitals.js', s.src) as unknown as string;
  // Calls made before the tag loaded, in order.
  q?.q?.forEach((x) => c.apply(0, x as Parameters<Cjm>));
})();
