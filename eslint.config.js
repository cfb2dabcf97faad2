// ESLint (flat config): typescript-eslint's recommended rules, plus the architecture rules of
// ../shared/ARCHITECTURE.md ("Direction of dependencies"): no import cycles anywhere, and imports only in the
// allowed direction. Formatting is Prettier's (`npm run format`), not ESLint's.
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Modules the runtime-agnostic core must never import (it runs on Node and on Workers alike). */
const RUNTIME_MODULES = [
  { group: ['node:*'], message: 'collector/core is runtime-agnostic: Node modules belong in collector/node.ts.' },
  {
    group: ['better-sqlite3', '@hono/node-server', '@hono/node-server/*', 'wrangler', 'cloudflare:*'],
    message:
      'collector/core is runtime-agnostic: drivers and runtimes meet it only in collector/node.ts and collector/worker.ts.',
  },
];

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'data/', '.wrangler/', '.worker-assets/', 'test/screenshots/', 'bench/.cache/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      // Parse TypeScript files when following imports (no-cycle walks the whole graph).
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'] })],
    },
    languageOptions: {
      globals: {
        // Browser, Node and Workers globals the code uses; TypeScript checks the real types.
        console: 'readonly',
        process: 'readonly',
      },
    },
    rules: {
      // TypeScript (tsc, strict, noUnused*) already checks these.
      'no-undef': 'off',
      '@typescript-eslint/no-unused-vars': 'off',
      // `catch {}` with a comment saying why is the project's idiom for a failure that is fine to ignore.
      'no-empty': ['error', { allowEmptyCatch: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './collector/core',
              from: [
                './collector/stores',
                './collector/node.ts',
                './collector/worker.ts',
                './collector/webhook-fetch.ts',
              ],
              message: 'collector/core never imports stores or runtime entries; it sees the Store interface only.',
            },
            {
              target: './collector/core/!(app).ts',
              from: './collector/core/routes',
              message: 'Nothing imports routes but collector/core/app.ts.',
            },
            {
              target: './collector/core/!(routes)/**',
              from: './collector/core/routes',
              message: 'Nothing imports routes but collector/core/app.ts.',
            },
            {
              target: './collector/core/services',
              from: ['./collector/core/dashboard', './collector/core/http.ts', './collector/core/app.ts'],
              message:
                'A service is plain functions over the Store: routes parse and render, services never see HTTP or pages.',
            },
            {
              target: './collector/stores',
              from: [
                './collector/core/routes',
                './collector/core/dashboard',
                './collector/node.ts',
                './collector/worker.ts',
              ],
              message: 'A store imports the SQL layer, its driver and core types, nothing else of the app.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['collector/core/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { patterns: RUNTIME_MODULES }] },
  },
  {
    files: ['collector/core/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...RUNTIME_MODULES,
            {
              group: ['hono', 'hono/*'],
              message: 'A service is plain functions over the Store; HTTP stays in routes/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['sdk/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/collector/*', '**/collector/*/*', '**/collector/*/*/**', '!**/collector/core/protocol'],
              message: 'The SDK shares only the wire types of collector/core/protocol.ts with the collector.',
            },
            {
              group: ['**/collector/core/protocol'],
              allowTypeImports: true,
              message:
                'The SDK imports collector/core/protocol.ts with `import type` only (values stay on the collector).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      // Tests reach into internals on purpose and cast hostile input.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
