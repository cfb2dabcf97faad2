import type { Props, Tracker } from './index';
import { navigation } from './navigation';
import { on } from './safe';

/** The attribute prefix of declarative event properties: `data-cjm-prop-sku="x"` → `{ sku: 'x' }`. */
const PROP = 'data-cjm-prop-';

/**
 * What the page's markup tells a tracker, opt-in (the tag's `data-markup`, createTracker's `markup: true`). Built as
 * dist/cjm.markup.js for the tag (which reaches the tag through `window.cjm`), bundled into the ESM module.
 *
 * - Declarative events: a click on (or inside) an element with `data-cjm-event="name"` tracks that name, with the
 *   element's `data-cjm-prop-*` attributes as props. One delegated listener in the capture phase (an app's
 *   stopPropagation does not hide a click); it never calls preventDefault and never delays a navigation.
 * - Stages from markup: the first element with `data-cjm-stage="…"` names the page's stage. It is entered when this
 *   starts, once the document is parsed, and on the next task after every URL change (pushState, replaceState,
 *   popstate, hash changes: a single-page app renders the new route's markup after changing the URL), each time only
 *   if it differs from the stage the markup named last; a stage entered by code (`stage()`) does not count.
 *
 * Its own listeners and history hooks: the tag has no hook for it. `t`'s methods must not throw (a tracker's never do).
 */
export const markup = (t: Pick<Tracker, 'track' | 'stage'>): void => {
  const d = document;
  on(
    d,
    'click',
    (e) => {
      // The target may be the document itself (a synthetic click), which has no closest().
      const el = (e.target as Partial<Element>).closest?.<HTMLElement>('[data-cjm-event]');
      if (el) {
        const props: Props = {};
        for (const a of el.attributes) if (a.name.startsWith(PROP)) props[a.name.slice(PROP.length)] = a.value;
        t.track(el.dataset.cjmEvent!, props);
      }
    },
    true,
  );

  /** The stage the markup named when last looked at. */
  let last: string | undefined;
  const mark = () => {
    const stage = d.querySelector<HTMLElement>('[data-cjm-stage]')?.dataset.cjmStage;
    if (stage && stage != last) t.stage((last = stage));
  };
  mark();
  if (d.readyState == 'loading') on(d, 'DOMContentLoaded', mark);
  // Every URL change (with hash changes), after the tag's own page view for it.
  navigation(true, () => setTimeout(mark));
};
