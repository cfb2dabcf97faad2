import { on } from './safe';

/**
 * Page views of single-page apps. Calls `page` after `pushState` and `popstate` when the path + query
 * changed, after `replaceState` only when the path itself changed (apps rewrite the query on boot, e.g. to
 * strip utm_*, and that is not a new page), and, with `hash`, when the hash changed (hash routing).
 * The first page view is the caller's: this only reports changes from the URL at install time.
 * `page` must not throw (the tracker's methods never do).
 */
export const navigation = (hash: boolean, page: () => void): void => {
  /** The path, and the hash with hash routing: what replaceState must change to make a page view. */
  const path = () => location.pathname + (hash ? location.hash : '');
  let lastPath = path(),
    lastQuery = location.search;
  /** After a URL change: a page view if it counts (`replace`: made by replaceState), then remember the URL. */
  const changed = (replace: boolean) => {
    if (path() != lastPath || (!replace && location.search != lastQuery)) page();
    lastPath = path();
    lastQuery = location.search;
  };
  /** Calls `changed` after every call of history[method], which keeps its `this`, arguments and result. */
  const patch = (method: 'pushState' | 'replaceState', replace: boolean) => {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      changed(replace);
    };
  };
  patch('pushState', false);
  patch('replaceState', true);
  on(window, 'popstate', () => changed(false));
  if (hash) on(window, 'hashchange', () => changed(false));
};
