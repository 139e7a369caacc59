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
 * Set `KINESIS_ARCHIVE_LOCAL=kinesis` or `=dynamodb` to start only one of the two.
 *
 * @module
 */
import { inject } from 'vitest';
import { createLocalClients, type LocalAwsEndpoints, type LocalClients } from './clients.js';
import { LOCAL_ENDPOINTS_ENV } from './from-env.js';
import { type LocalAws, startLocalAws } from './start.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kinesisArchiveLocalAws: LocalAwsEndpoints;
  }
}

/** The minimal shape of Vitest's `TestProject` that the global setup uses. */
export interface ProvideTarget {
  provide(key: 'kinesisArchiveLocalAws', value: LocalAwsEndpoints): void;
}

/**
 * Vitest global setup: starts the stand-ins, provides their endpoints to the tests, and returns the teardown that
 * stops them.
 */
export default async function setup(project: ProvideTarget): Promise<() => Promise<void>> {
  const which = process.env.KINESIS_ARCHIVE_LOCAL ?? 'kinesis,dynamodb';
  const aws: LocalAws = await startLocalAws({
    kinesis: which.includes('kinesis'),
    dynamodb: which.includes('dynamodb'),
  });
  project.provide('kinesisArchiveLocalAws', aws.endpoints);
  // Workers start after the setup and inherit this, for `localAwsFromVitest()` from the main entry.
  process.env[LOCAL_ENDPOINTS_ENV] = JSON.stringify(aws.endpoints);
  return async () => {
    delete process.env[LOCAL_ENDPOINTS_ENV];
    await aws.stop();
  };
}

/**
 * Endpoints and clients of the stand-ins started by the global setup, for use inside a test file.
 *
 * @throws Error when the global setup is not configured.
 */
export function localAws(): { endpoints: LocalAwsEndpoints; clients: LocalClients } {
  const endpoints = inject('kinesisArchiveLocalAws');
  if (!endpoints) {
    throw new Error(
      "the local stand-ins are not running: add globalSetup: ['@kinesis-archive/local/vitest'] to vitest.config.ts",
    );
  }
  return { endpoints, clients: createLocalClients(endpoints) };
}
