import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../vitest.config';

// `npm run test:unit` (part of `npm run check`): the tests that need neither Chromium nor workerd, in under a minute.
// Convention: browser tests live in test/browser/, Worker tests in test/worker/ or are named *d1.test.ts /
// *worker.test.ts; test/simulate.test.ts runs the simulator's CLI against started collectors (an end-to-end test).
export default mergeConfig(
  base,
  defineConfig({
    root: fileURLToPath(new URL('..', import.meta.url)),
    test: {
      exclude: [
        'test/browser/**',
        'test/worker/**',
        'test/**/*d1.test.ts',
        'test/**/*worker.test.ts',
        'test/simulate.test.ts',
        'node_modules/**',
      ],
    },
  }),
);
