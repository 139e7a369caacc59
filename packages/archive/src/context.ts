import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BackoffOptions, KinesisArchiveError } from '@kinesis-archive/core';
import type { NormalizedRecord } from './normalize.js';
import type { ArchiveMode } from './types.js';

/** What the mode-specific writers need, fixed for one `write` call. */
export interface WriteContext {
  dynamodb: DynamoDBClient;
  tableName: string;
  mode: ArchiveMode;
  concurrency: number;
  backoff: BackoffOptions;
  nowMs: number;
  /** TTL of records, epoch seconds, or undefined. */
  expireAfter: number | undefined;
  /** Whether records with empty data are deletion markers (the writer's `tombstones` option). */
  tombstones: boolean;
  /** TTL of LATEST tombstones, epoch seconds; undefined when tombstones are off. */
  tombstoneExpireAfter: number | undefined;
}

/** The outcome of a mode-specific write, per record of the normalized list. */
export interface ModeResult {
  written: number;
  tombstoned: number;
  skippedStale: number;
  compacted: number;
  failed: Array<{ record: NormalizedRecord; error: KinesisArchiveError }>;
}
