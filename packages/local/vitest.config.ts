import { defineConfig } from 'vitest/config';

// The global setup runs in this process: keep the AWS SDK's Node-version notice out of the output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The package tests itself through its sources (the published setup is `@kinesis-archive/local/vitest`).
    globalSetup: ['./src/vitest-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
