import { KinesisArchiveError } from '@kinesis-archive/core';
import { createLocalClients, type LocalAwsEndpoints, type LocalClients } from './clients.js';

/** The environment variable in which the Vitest global setup publishes the stand-ins' endpoints (JSON). */
export const LOCAL_ENDPOINTS_ENV = 'KINESIS_ARCHIVE_LOCAL_ENDPOINTS';

/**
 * Endpoints and clients of the stand-ins started by the Vitest global setup (`@kinesis-archive/local/vitest`),
 * read from the environment the setup passes to the test workers. Same result as `localAws()` from
 * `@kinesis-archive/local/vitest`, without importing Vitest.
 *
 * @throws {@link KinesisArchiveError} `LOCAL_AWS_NOT_RUNNING` when the global setup is not configured.
 */
export function localAwsFromVitest(): { endpoints: LocalAwsEndpoints; clients: LocalClients } {
  const raw = process.env[LOCAL_ENDPOINTS_ENV];
  let endpoints: LocalAwsEndpoints | undefined;
  try {
    endpoints = raw ? (JSON.parse(raw) as LocalAwsEndpoints) : undefined;
  } catch {
    endpoints = undefined;
  }
  if (!endpoints || typeof endpoints.region !== 'string') {
    throw new KinesisArchiveError(
      'LOCAL_AWS_NOT_RUNNING',
      "the local stand-ins are not running: add globalSetup: ['@kinesis-archive/local/vitest'] to vitest.config.ts",
    );
  }
  return { endpoints, clients: createLocalClients(endpoints) };
}
