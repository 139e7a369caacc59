import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { type ArchiveHandlerOptions, createArchiveHandler } from '@kinesis-archive/archive';
import type { KinesisBatchResponse, KinesisStreamEvent } from '@kinesis-archive/core';
import { archiverConfigFromEnv } from './config.js';

/** A Kinesis-triggered Lambda handler with a partial batch response. */
export type ArchiverHandler = (event: KinesisStreamEvent) => Promise<KinesisBatchResponse>;

/** Options of {@link createHandler}. */
export interface CreateHandlerOptions {
  /** Client of the archive tables' account and region. */
  dynamodb: DynamoDBClient;
  /** Client of the source streams, used to read their `StreamArchiveMode` / `ArchiveTTL` tags. */
  kinesis?: KinesisClient;
  /** Where `ARCHIVE_TABLE`, `ARCHIVE_MODE`, `ARCHIVE_TTL_SECONDS` are read. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** CloudWatch EMF metrics (see `ArchiveHandlerOptions.metrics`). Default on, to stdout, as Lambda wants them. */
  metrics?: ArchiveHandlerOptions['metrics'];
  /** Where quarantined records are logged. Default `console`. */
  logger?: ArchiveHandlerOptions['logger'];
}

/**
 * Builds the archiver: `ARCHIVE_MODE` / `ARCHIVE_TTL_SECONDS` / `ARCHIVE_TABLE` when set, else the source stream's
 * tags and the conventional `<stream>-archive-<MODE>` table. The returned handler archives every record of the
 * event (KPL aggregates deaggregated) and answers `{ batchItemFailures }` with the first record that could not be
 * archived, so Lambda retries from there; a record that can never be archived is quarantined, not retried. Throws `ArchiverConfigError` for an unusable environment value.
 */
export function createHandler(options: CreateHandlerOptions): ArchiverHandler {
  const config = archiverConfigFromEnv(options.env ?? process.env);
  return createArchiveHandler({
    dynamodb: options.dynamodb,
    ...(options.kinesis ? { kinesis: options.kinesis } : {}),
    ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...config,
  });
}

let deployed: ArchiverHandler | undefined;

/**
 * The deployed Lambda entry point (`handler.handler`). Clients and configuration are created once per execution
 * environment, on the first invocation, and reused by every later one.
 */
export async function handler(event: KinesisStreamEvent): Promise<KinesisBatchResponse> {
  deployed ??= createHandler({ dynamodb: new DynamoDBClient({}), kinesis: new KinesisClient({}) });
  return deployed(event);
}
