import { on } from './safe';

/**
 * Page views of single-page apps. Calls `page` after `pushState` and `popstate` when the path + query
 * changed, after `replaceState` only when the path itself changed (apps rewrite the query on boot, e.g. to
 * strip utm_*, and that is not a new page), and, with `hash`, when the hash changed (hash routing).
 * The first page view is the caller's: this only reports changes from the URL at install time.
 * `page` must not throw (the tracker's methods never do).
 */
export const navigation = (hash: unknown, page: () => void): void => {
  const l = location,
    key = (q?: unknown) => l.pathname + (q ? l.search : '') + (hash ? l.hash : '');
  let full = key(1),
    path = key();
  /** `replace` is 1 for replaceState (0 for pushState, an Event for popstate and hashchange). */
  const check = (replace?: unknown) => {
    if (replace === 1 ? key() != path : key(1) != full) page();
    full = key(1);
    path = key();
  };
  (['pushState', 'replaceState'] as const).forEach((m, i) => {
    const orig = history[m];
    history[m] = function (this: History) {
      // eslint-disable-next-line prefer-rest-params
      orig.apply(this, arguments as unknown as Parameters<History['pushState']>);
      check(i);
    };
  });
  on(window, 'popstate', check);
  if (hash) on(window, 'hashchange', check);
};
