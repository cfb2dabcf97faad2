/**
 * Tag sizes beside the trackers users would choose instead, from their published npm packages installed in the
 * same run (`npm install --prefix bench/.cache --no-save`). Every file is passed through terser (compress + mangle,
 * as our tag's build does) so a package that publishes an unminified browser build is not penalised; then
 * gzip -9 and brotli (quality 11) of the result are measured.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { minify } from 'terser';
import { ROOT } from './lib/collector-process';

export const CACHE = join(ROOT, 'bench', '.cache');

/** Which file of each package is the browser bundle a site would load, and why. */
export const COMPETITORS = [
  {
    pkg: '@plausible-analytics/tracker',
    file: 'plausible.js',
    note: 'the package’s only browser build (minified ESM)',
    esm: true,
  },
  {
    pkg: '@counterscale/tracker',
    file: 'dist/loader/tracker.js',
    note: 'the script-tag loader build (IIFE)',
    esm: false,
  },
  { pkg: '@snowplow/browser-tracker', file: 'dist/index.umd.min.js', note: 'the minified UMD build', esm: false },
  {
    pkg: '@segment/analytics-next',
    file: 'dist/umd/index.js',
    note: 'the standalone analytics.js entry; destinations load more chunks later',
    esm: false,
  },
  {
    pkg: 'posthog-js',
    file: 'dist/array.js',
    note: 'the script the PostHog snippet loads (array.js, without extras)',
    esm: false,
  },
] as const;

export interface SizeRow {
  name: string;
  version: string;
  file: string;
  note: string;
  raw: number;
  min: number;
  gzip: number;
  brotli: number;
}

const gz = (b: Buffer | string) => gzipSync(b, { level: 9 }).length;
const br = (b: Buffer | string) =>
  brotliCompressSync(b, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(b) },
  }).length;

const measure = async (
  name: string,
  version: string,
  path: string,
  file: string,
  note: string,
  module: boolean,
  ours = false,
): Promise<SizeRow> => {
  const src = readFileSync(path, 'utf8');
  // Our tag is measured exactly as built (it is already minified by the same terser); others are minified here.
  const min = ours
    ? src
    : ((await minify(src, { module, compress: { passes: 2 }, mangle: true, format: { comments: false } })).code ?? src);
  return {
    name,
    version,
    file,
    note,
    raw: Buffer.byteLength(src),
    min: Buffer.byteLength(min),
    gzip: gz(min),
    brotli: br(min),
  };
};

/** Installs the competitors' packages into bench/.cache (npm registry), unless already there. */
export const installCompetitors = (): string[] => {
  const missing = COMPETITORS.filter((c) => !existsSync(join(CACHE, 'node_modules', c.pkg, 'package.json'))).map(
    (c) => c.pkg,
  );
  if (missing.length > 0) {
    execFileSync(
      'npm',
      ['install', '--prefix', CACHE, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', ...missing],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        cwd: ROOT,
      },
    );
  }
  return missing;
};

export const benchSizes = async (): Promise<{ rows: SizeRow[]; failed: string[] }> => {
  const rows: SizeRow[] = [];
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const f of ['cjm.js', 'cjm.vitals.js']) {
    const path = join(ROOT, 'dist', f);
    if (!existsSync(path)) throw new Error(`[cjm bench] ${path} is missing: run npm run build first`);
    rows.push(
      await measure(
        `cjm ${f}`,
        own.version,
        path,
        `dist/${f}`,
        f === 'cjm.js' ? 'our tag' : 'our web-vitals chunk, loaded only with data-vitals',
        false,
        true,
      ),
    );
  }
  const failed: string[] = [];
  try {
    installCompetitors();
  } catch (e) {
    failed.push(`npm install failed: ${(e as Error).message.split('\n')[0]}`);
  }
  for (const c of COMPETITORS) {
    const dir = join(CACHE, 'node_modules', c.pkg);
    const path = join(dir, c.file);
    if (!existsSync(path)) {
      failed.push(`${c.pkg}: ${c.file} not found`);
      continue;
    }
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    rows.push(await measure(c.pkg, version, path, c.file, c.note, c.esm));
  }
  return { rows, failed };
};
