import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synthesizing bundles three functions with esbuild.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
