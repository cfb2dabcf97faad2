// Builds the SDK:
//   dist/cjm.js          the script tag: one minified IIFE (budget 1,900 B gzip -9)
//   dist/cjm.markup.js   declarative events and stages from markup, injected with data-markup (budget 600 B gzip -9)
//   dist/cjm.vitals.js   web-vitals chunk the tag injects with data-vitals (budget 4,000 B gzip -9)
//   dist/index.mjs       the ESM module, markup.ts bundled (+ vitals.mjs, loaded by import() when `vitals: true`)
//   dist/index.d.ts      its types, one self-contained file
// and the dashboard's stylesheet and script, named by their content (served with a year-long immutable cache):
//   dist/assets/dashboard.<hash>.css, dist/assets/dashboard.<hash>.js, and dist/assets/manifest.json naming them
// and prints raw, gzip -9 and brotli (quality 11) sizes of every artifact (also with --silent).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import typescript from '@rollup/plugin-typescript';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { tsImport } from 'tsx/esm/api';
import ts from 'typescript';

/** The collector's limits, read from their one source when the build starts (the SDK gets them as literals). */
const { LIMITS } = await tsImport('./collector/core/protocol.ts', import.meta.url);

const rows = [];
const CONFIGS = 5;
let done = 0;

/** Collects the size of every emitted file; the last build prints the table. */
const sizes = () => ({
  name: 'cjm-sizes',
  generateBundle(_, bundle) {
    for (const f of Object.values(bundle)) {
      const src = f.type === 'chunk' ? f.code : f.source;
      rows.push([
        'dist/' + f.fileName,
        Buffer.byteLength(src),
        gzipSync(src, { level: 9 }).length,
        brotliCompressSync(src, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).length,
      ]);
    }
  },
  closeBundle() {
    if (++done < CONFIGS) return;
    const w = Math.max(...rows.map((r) => r[0].length), 8);
    const line = (name, ...sizes) => `${name.padEnd(w)}${sizes.map((n) => String(n).padStart(10)).join('')}\n`;
    process.stdout.write(
      '\n' + line('artifact', 'raw B', 'gzip -9', 'brotli') + rows.map((r) => line(...r)).join('') + '\n',
    );
  },
});

/**
 * Build-time constants: replaces sdk/build.ts (which only declares them) with `export const NAME = <literal>;`, so
 * terser inlines each value where it is used. vitest.config.ts gives the unit tests the same values.
 */
const constants = (values) => ({
  name: 'cjm-constants',
  resolveId(source, importer) {
    if (source === './build' && importer?.includes('/sdk/')) return '\0cjm-build';
    return null;
  },
  load(id) {
    if (id !== '\0cjm-build') return null;
    return Object.entries(values)
      .map(([k, v]) => `export const ${k} = ${JSON.stringify(v)};`)
      .join('\n');
  },
});

/**
 * The page's clock in dist/: sdk/clock.ts is a seam for the unit tests (which run the source and replace its
 * functions); the built SDK calls Date.now, setTimeout and clearTimeout directly (terser does not inline the seam's
 * wrappers: 16 B gzip in cjm.js). Runs on the compiled JavaScript; fails the build if a use of the seam is left.
 */
const NATIVE = { _now: 'Date.now', _after: 'setTimeout', _cancel: 'clearTimeout' };
const pageClock = () => ({
  name: 'cjm-page-clock',
  transform(code, id) {
    if (!id.includes('/sdk/') || id.endsWith('/clock.ts')) return null;
    const out = code.replace(/\bclock\.(_now|_after|_cancel)\b/g, (_, name) => NATIVE[name]);
    if (/\bclock\._/.test(out)) this.error(`${id}: a use of sdk/clock.ts that the build cannot replace`);
    return out === code ? null : { code: out, map: null };
  },
});

/** dist/index.d.ts from sdk/index.ts; it must not import anything (one self-contained file). */
const dts = () => ({
  name: 'cjm-dts',
  generateBundle() {
    const program = ts.createProgram(['sdk/index.ts'], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      types: [],
      strict: true,
      skipLibCheck: true,
      declaration: true,
      emitDeclarationOnly: true,
      outDir: 'dts',
    });
    let text;
    const result = program.emit(undefined, (name, data) => {
      if (name.endsWith('/index.d.ts')) text = data;
    });
    const errors = ts.getPreEmitDiagnostics(program).concat(result.diagnostics);
    if (errors.length)
      this.error(
        ts.formatDiagnostics(errors, {
          getCanonicalFileName: (f) => f,
          getCurrentDirectory: () => process.cwd(),
          getNewLine: () => '\n',
        }),
      );
    if (!text || /^\s*import\b|\bfrom\s+['"]/m.test(text))
      this.error('sdk/index.ts: its declarations must not import other modules');
    this.emitFile({ type: 'asset', fileName: 'index.d.ts', source: text });
  },
});

const tsPlugin = (target) =>
  typescript({
    tsconfig: './tsconfig.json',
    include: ['sdk/**/*.ts', 'collector/core/protocol.ts'],
    compilerOptions: { target, types: [] },
    noEmitOnError: true,
  });

const minify = () =>
  terser({
    ecma: 2020,
    compress: {
      passes: 3,
      unsafe: true,
      unsafe_arrows: true,
      unsafe_methods: true,
      unsafe_comps: true,
      pure_getters: true,
      booleans_as_integers: true,
      // Reorders arithmetic on numbers (the backoff's); exact for the integers and halves the tag computes with.
      unsafe_math: true,
    },
    mangle: { properties: { regex: /^_/ } },
    format: { comments: false },
  });

// ----- the dashboard's stylesheet and script (collector/core/dashboard/) -----

/**
 * A stylesheet without comments and needless whitespace; strings are kept as written. Enough for our own CSS, which
 * has no calc() (where the spaces around + and - matter): only the spaces around { } : ; , > go.
 */
const minifyCss = (css) => {
  const string = /("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')/;
  const comment = new RegExp(`${string.source}|\\/\\*[\\s\\S]*?\\*\\/`, 'g');
  return css
    .replace(comment, (match, quoted) => quoted ?? ' ')
    .split(string)
    .map((part, i) =>
      i % 2
        ? part
        : part
            .replace(/\s+/g, ' ')
            .replace(/ ?([{}:;,>]) ?/g, '$1')
            .replace(/;}/g, '}'),
    )
    .join('')
    .trim();
};

/** dist/assets/<name>.<8 hex digits>.<css|js>: the names this build gives the dashboard's files. */
const HASHED = /^dashboard\.[0-9a-f]{8}\.(?:css|js)$/;

/**
 * The dashboard's files: the script is the config's input, the stylesheet is emitted beside it, minified; rollup
 * names both after a hash of their content. `assets/manifest.json` tells the collector those names (it maps
 * `dashboard.css` and `dashboard.js` to their URL paths; collector/core/dashboard/assets.ts reads it), and the files of
 * earlier builds are removed, so dist/assets/ (and the Worker's copy of it) holds exactly what the manifest names.
 */
const dashboardAssets = (stylesheet) => {
  let css;
  return {
    name: 'cjm-dashboard-assets',
    buildStart() {
      this.addWatchFile(stylesheet);
      css = this.emitFile({
        type: 'asset',
        name: 'dashboard.css',
        source: minifyCss(readFileSync(stylesheet, 'utf8')),
      });
    },
    generateBundle(_, bundle) {
      const script = Object.values(bundle).find((f) => f.type === 'chunk' && f.isEntry);
      const manifest = { 'dashboard.css': `/${this.getFileName(css)}`, 'dashboard.js': `/${script.fileName}` };
      for (const path of Object.values(manifest))
        if (!HASHED.test(path.replace(/^\/assets\//, ''))) this.error(`unexpected dashboard asset name ${path}`);
      this.emitFile({
        type: 'asset',
        fileName: 'assets/manifest.json',
        source: JSON.stringify(manifest, null, 2) + '\n',
      });
    },
    writeBundle(options, bundle) {
      const dir = join(options.dir, 'assets');
      for (const file of readdirSync(dir)) if (HASHED.test(file) && !bundle[`assets/${file}`]) rmSync(join(dir, file));
    },
  };
};

export default [
  {
    input: 'sdk/tag.ts',
    output: { file: 'dist/cjm.js', format: 'iife', strict: false },
    plugins: [constants({ LIMITS }), tsPlugin('es2020'), pageClock(), minify(), sizes()],
  },
  {
    input: 'sdk/tag-markup.ts',
    output: { file: 'dist/cjm.markup.js', format: 'iife', strict: false },
    plugins: [tsPlugin('es2020'), minify(), sizes()],
  },
  {
    input: 'sdk/tag-vitals.ts',
    output: { file: 'dist/cjm.vitals.js', format: 'iife', strict: false },
    plugins: [resolve(), tsPlugin('es2020'), minify(), sizes()],
  },
  {
    input: 'sdk/index.ts',
    output: { dir: 'dist', format: 'es', entryFileNames: 'index.mjs', chunkFileNames: '[name].mjs' },
    plugins: [constants({ LIMITS }), resolve(), tsPlugin('es2022'), pageClock(), dts(), sizes()],
  },
  {
    input: 'collector/core/dashboard/client.ts',
    output: {
      dir: 'dist',
      format: 'iife',
      entryFileNames: 'assets/dashboard.[hash:8].js',
      assetFileNames: 'assets/[name].[hash:8][extname]',
      hashCharacters: 'hex',
    },
    plugins: [
      typescript({
        tsconfig: './tsconfig.json',
        include: ['collector/core/dashboard/client.ts'],
        compilerOptions: { target: 'es2020', types: [] },
        noEmitOnError: true,
      }),
      dashboardAssets('collector/core/dashboard/dashboard.css'),
      terser({ ecma: 2020, format: { comments: false } }),
      sizes(),
    ],
  },
];
