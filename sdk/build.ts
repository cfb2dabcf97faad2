/**
 * Build-time constants. The tag build (rollup.config.mjs) replaces this module with
 * `export const TAG = true`, so branches meant only for the ESM module vanish from dist/cjm.js.
 */
export const TAG: boolean = false;
