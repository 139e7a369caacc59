import { defineConfig } from 'vitest/config';

// Only DynamoDB Local is needed (set before the global setup reads it).
process.env.KINESIS_ARCHIVE_LOCAL ??= 'dynamodb';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['@kinesis-archive/local/vitest'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { KINESIS_ARCHIVE_LOCAL: 'dynamodb', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
