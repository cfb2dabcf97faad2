import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run test:faults`: the slow fault tests (*.fault.ts), kept out of `npm test`.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/faults/**/*.fault.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // One at a time: each fault test loads both cores on its own.
    fileParallelism: false,
  },
});
