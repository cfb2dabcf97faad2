import type { LIMITS as COLLECTOR_LIMITS } from '../collector/core/protocol';

/**
 * Build-time constants. This module is never loaded as written: rollup.config.mjs replaces it with literal values
 * read from collector/core/protocol.ts when it builds dist/ (terser then inlines them, so they cost no more bytes
 * than a number), and vitest.config.ts with a re-export of that module for the unit tests. The SDK itself imports
 * protocol.ts with `import type` only.
 */

/** The collector's limits: the tag cuts URLs and titles and sizes its batches to what the collector accepts. */
export declare const LIMITS: typeof COLLECTOR_LIMITS;
