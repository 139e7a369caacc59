import type { ViteUserConfig } from 'vitest/config';

/** The `test` options of a vitest config. */
type TestOptions = NonNullable<ViteUserConfig['test']>;

/** Package-specific settings for {@link integrationConfig}: any `test` option, plus `onlyDynamoDB`. */
export interface IntegrationOverrides extends TestOptions {
  /** Start only DynamoDB Local (and its streams) for the run, not kinesis-mock (`KINESIS_ARCHIVE_LOCAL=dynamodb`). */
  onlyDynamoDB?: boolean;
}

/**
 * The vitest config every package and example that runs against the local stand-ins shares: `test/**\/*.test.ts`,
 * the `@kinesis-archive/local/vitest` global setup (one kinesis-mock + DynamoDB Local per run), 60 s test and hook
 * timeouts, and the AWS SDK's Node-version notice silenced in the workers and in this process (where the global
 * setup starts the stand-ins). `overrides` replace the defaults; `env` entries are added to the defaults.
 *
 * @example
 * ```ts
 * export default defineConfig(integrationConfig({ testTimeout: 120_000 }));
 * ```
 */
export function integrationConfig(overrides: IntegrationOverrides = {}): ViteUserConfig {
  const { onlyDynamoDB, env, ...test } = overrides;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  if (onlyDynamoDB) process.env.KINESIS_ARCHIVE_LOCAL ??= 'dynamodb';
  return {
    test: {
      include: ['test/**/*.test.ts'],
      globalSetup: ['@kinesis-archive/local/vitest'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...test,
      env: {
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...(onlyDynamoDB ? { KINESIS_ARCHIVE_LOCAL: 'dynamodb' } : {}),
        ...env,
      },
    },
  };
}
