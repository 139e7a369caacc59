/**
 * Vitest integration: a global setup that starts the local stand-ins once per test run, and a helper that gives
 * each test file clients for them.
 *
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['@kinesis-archive/local/vitest'] } });
 *
 * // some.test.ts
 * import { localAws } from '@kinesis-archive/local/vitest';
 * const { clients } = localAws();
 * ```
 *
 * Set `KINESIS_ARCHIVE_LOCAL=kinesis` or `=dynamodb` to start only one of the two. The setup hands the endpoints
 * to the test workers through the environment (`KINESIS_ARCHIVE_LOCAL_ENDPOINTS`), so this module does not import
 * Vitest and works with any version of it.
 *
 * @module
 */
import { LOCAL_ENDPOINTS_ENV, localAwsFromVitest } from './from-env.js';
import { type LocalAws, startLocalAws } from './start.js';

/**
 * Vitest global setup: starts the stand-ins, publishes their endpoints to the test workers, and returns the
 * teardown that stops them.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const which = process.env.KINESIS_ARCHIVE_LOCAL ?? 'kinesis,dynamodb';
  const aws: LocalAws = await startLocalAws({
    kinesis: which.includes('kinesis'),
    dynamodb: which.includes('dynamodb'),
  });
  // Workers start after the global setup and inherit this.
  process.env[LOCAL_ENDPOINTS_ENV] = JSON.stringify(aws.endpoints);
  return async () => {
    delete process.env[LOCAL_ENDPOINTS_ENV];
    await aws.stop();
  };
}

/**
 * Endpoints and clients of the stand-ins started by the global setup, for use inside a test file (the same as
 * `localAwsFromVitest()` from the main entry).
 *
 * @throws {@link KinesisArchiveError} `LOCAL_AWS_NOT_RUNNING` when the global setup is not configured.
 */
export const localAws = localAwsFromVitest;
