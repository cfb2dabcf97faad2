import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * sdk/build.ts only declares the SDK's build-time constants; rollup.config.mjs replaces it with their values when it
 * builds dist/. The unit tests, which run the SDK's source, get them from where they are defined.
 */
const sdkBuildConstants = {
  name: 'cjm-sdk-build-constants',
  enforce: 'pre' as const,
  resolveId: (id: string, importer?: string) =>
    id === './build' && importer?.includes('/sdk/') ? '\0cjm-sdk-build' : null,
  load: (id: string) =>
    id === '\0cjm-sdk-build'
      ? `export { LIMITS } from ${JSON.stringify(fileURLToPath(new URL('./collector/core/protocol.ts', import.meta.url)))};`
      : null,
};

export default defineConfig({
  plugins: [sdkBuildConstants],
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: browser and Worker tests start heavy processes; keep concurrency modest.
    maxWorkers: 2,
  },
});
