/**
 * Entry of dist/cjm.markup.js: declarative events and stages from markup (markup.ts), sent through `window.cjm`.
 * The tag injects it when its script has `data-markup`; a page may instead load it itself, beside the tag
 * (`<script async src=".../cjm.markup.js">`), so both download at once. If it runs before the tag, it puts the
 * pre-load stub of docs/sdk.md in place (unless the page did) and its calls wait in the stub's queue for the tag.
 */
import type { Props } from './index';
import { markup } from './markup';

/** `window.cjm`: the tag (`cjm(command, ...args)`), or the stub queueing such calls until the tag loads. */
type Cjm = ((command: string, ...args: unknown[]) => void) & { q?: IArguments[] };
const w = window as unknown as { cjm?: Cjm };

w.cjm ||= function () {
  // The stub's own words (docs/sdk.md): queue the arguments.
  // eslint-disable-next-line prefer-rest-params
  (w.cjm!.q ||= []).push(arguments);
};
markup({
  // Looked up at each call: the stub now, the tag once it has loaded.
  track: (name: string, props?: Props) => w.cjm!('track', name, props),
  stage: (stage: string) => w.cjm!('stage', stage),
});
