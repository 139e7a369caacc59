import { defineConfig } from 'vitest/config';

// Also for the global setup's process, which starts the stand-ins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['@kinesis-archive/local/vitest'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
