/**
 * Entry of dist/cjm.js, the script tag:
 *   <script async src="https://host/cjm.js" data-site="shop"></script>
 * Reads the data-* attributes of its own <script>, starts a tracker, turns `window.cjm` into a function with
 * the tracker's methods attached (`cjm('track', 'x')` and `cjm.track('x')`), loads the opt-in chunks its attributes
 * ask for (`data-vitals`, `data-markup`), then replays the calls the pre-load stub queued in `cjm.q`, in order. A
 * second copy of the tag does nothing.
 */
import type { Tracker } from './index';
import { safe } from './safe';
import { tracker } from './tracker';

/** The pre-load stub of docs/sdk.md: a function that queues its `arguments` in `q` (and has no methods). */
interface Stub {
  q?: IArguments[];
  track?: undefined;
}

/** `window.cjm` once the tag runs: `cjm(command, ...args)` calls the method named `command`, with `args`. */
type Cjm = ((command?: unknown, ...args: unknown[]) => void) & Tracker;

declare global {
  interface Window {
    cjm?: Stub | Cjm;
  }
}

safe(() => {
  // The <script> running now (null when run otherwise, e.g. from a module or a callback: throws inside safe).
  const script = document.currentScript as HTMLScriptElement;
  const data = script.dataset;
  const stub = window.cjm;
  // A second copy of the tag (the tracker is there already), or no site: nothing to do.
  if (stub?.track || !data.site) return;
  const t = tracker(data.site, data.api || new URL('/collect', script.src), data);
  // The page's calls are untyped: an unknown command is not a function, and throws inside safe (ignored).
  const run = (command?: unknown, ...args: unknown[]) =>
    (t[command as keyof Tracker] as (...a: unknown[]) => unknown)(...args);
  const cjm: Cjm = Object.assign(safe(run), t);
  window.cjm = cjm;
  // Opt-in chunks, from the folder of this script: `data-vitals` loads cjm.vitals.js, `data-markup` cjm.markup.js.
  for (const chunk of ['vitals', 'markup'] as const)
    if (data[chunk] != null)
      document.head.appendChild(document.createElement('script')).src = new URL(`cjm.${chunk}.js`, script.src).href;
  // Calls made before the tag loaded, in order.
  stub?.q?.forEach((args) => cjm(...args));
})();
