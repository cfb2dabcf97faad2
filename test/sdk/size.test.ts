// @vitest-environment node
/** The byte budgets of the tag (dist/ is built by `npm run build`, which `npm test` runs first). */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';

const gzip9 = (file: string) => {
  const path = new URL(`../../dist/${file}`, import.meta.url);
  let code: Buffer;
  try {
    code = readFileSync(path);
  } catch {
    throw new Error(`[cjm] dist/${file} is missing: run \`npm run build\` first (npm test does it via pretest)`);
  }
  return gzipSync(code, { level: 9 }).length;
};

describe('size budgets (gzip -9)', () => {
  test('dist/cjm.js ≤ 2,000 bytes', () => {
    expect(gzip9('cjm.js')).toBeLessThanOrEqual(2000);
  });
  test('dist/cjm.vitals.js ≤ 4,000 bytes', () => {
    expect(gzip9('cjm.vitals.js')).toBeLessThanOrEqual(4000);
  });
});
