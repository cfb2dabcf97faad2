// @vitest-environment node
/**
 * The byte budgets of the tag (dist/ is built by `npm run build`, which `npm test` runs first). The budgets are
 * gzip -9; brotli (quality 11), what most browsers are served, is reported beside it.
 */
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';

const sizes = (file: string) => {
  const path = new URL(`../../dist/${file}`, import.meta.url);
  let code: Buffer;
  try {
    code = readFileSync(path);
  } catch {
    throw new Error(`[cjm] dist/${file} is missing: run \`npm run build\` first (npm test does it via pretest)`);
  }
  const gzip = gzipSync(code, { level: 9 }).length;
  const brotli = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.info(`[size] dist/${file}: ${code.length} B raw, ${gzip} B gzip -9, ${brotli} B brotli`);
  return { gzip, brotli };
};

describe('size budgets (gzip -9; brotli reported beside it)', () => {
  test('dist/cjm.js ≤ 1,900 bytes', () => {
    const { gzip, brotli } = sizes('cjm.js');
    expect(gzip).toBeLessThanOrEqual(1900);
    expect(brotli).toBeLessThan(gzip);
  });
  test('dist/cjm.markup.js ≤ 600 bytes (loaded only with data-markup)', () => {
    const { gzip, brotli } = sizes('cjm.markup.js');
    expect(gzip).toBeLessThanOrEqual(600);
    expect(brotli).toBeLessThan(gzip);
  });
  test('dist/cjm.vitals.js ≤ 4,000 bytes', () => {
    const { gzip, brotli } = sizes('cjm.vitals.js');
    expect(gzip).toBeLessThanOrEqual(4000);
    expect(brotli).toBeLessThan(gzip);
  });
});
