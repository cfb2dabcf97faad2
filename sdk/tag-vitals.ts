/**
 * Entry of dist/cjm.vitals.js, injected by the tag when its script has `data-vitals`. It carries no
 * transport: every metric goes through the already-loaded tag as `cjm.vital(name, value)`.
 */
import { vitals } from './vitals';

vitals((name, value) =>
  (window as Window & { cjm?: { vital?(n: string, v: number): void } }).cjm?.vital?.(name, value),
);
