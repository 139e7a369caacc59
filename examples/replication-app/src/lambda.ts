import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisArchiveError } from '@kinesis-archive/core';
import {
  type DynamoDBBatchResponse,
  type DynamoDBStreamEvent,
  type DynamoDBStreamEventRecord,
  fromLambdaRecord,
} from '@kinesis-archive/dynamodb-stream';
import { deleteItem, EXACT_UNMARSHALL, putItem } from './target.js';

/** Options of {@link createReplicationHandler}. */
export interface ReplicationHandlerOptions {
  /** Client of the account and region of the target table. */
  dynamodb: DynamoDBClient;
  /** The table that receives the changes. */
  targetTable: string;
  /** Called after each applied change (logging, metrics). */
  onApplied?: (record: DynamoDBStreamEventRecord) => void;
  /** Called with the change that failed and why, before the handler reports it. Default: `console.error`. */
  onFailed?: (record: DynamoDBStreamEventRecord, error: unknown) => void;
}

/**
 * Thrown for a stream record the handler cannot apply (a REMOVE without keys, or an INSERT/MODIFY without a new
 * image: the table's stream must use `NEW_IMAGE` or `NEW_AND_OLD_IMAGES`). Code `UNAPPLICABLE_CHANGE`. A record
 * that cannot be decoded at all (e.g. no sequence number) is the package's `RecordDecodeError`.
 */
export class UnapplicableChangeError extends KinesisArchiveError {
  constructor(reason: string, record: DynamoDBStreamEventRecord) {
    super('UNAPPLICABLE_CHANGE', `cannot apply stream record ${record.eventID ?? '?'}: ${reason}`, {
      details: { eventID: record.eventID, eventName: record.eventName },
    });
  }
}

async function apply(options: ReplicationHandlerOptions, record: DynamoDBStreamEventRecord): Promise<void> {
  const change = fromLambdaRecord(record, { unmarshall: EXACT_UNMARSHALL });
  if (change.eventName === 'REMOVE') {
    if (Object.keys(change.keys).length === 0)
      throw new UnapplicableChangeError('a REMOVE without keys', record);
    await deleteItem(options.dynamodb, options.targetTable, change.keys);
    return;
  }
  if (!change.newImage)
    throw new UnapplicableChangeError(`a ${change.eventName} without a new image`, record);
  await putItem(options.dynamodb, options.targetTable, change.newImage);
}

function logFailure(record: DynamoDBStreamEventRecord, error: unknown): void {
  console.error(`replication stopped at ${record.eventID ?? '?'}:`, error);
}

/**
 * A DynamoDB Streams-triggered handler that applies each change to `targetTable` (put the new image, delete on
 * REMOVE, TTL deletes included), in stream order. At the first change that fails it stops and reports that
 * record's sequence number (`ReportBatchItemFailures`), so Lambda retries from there: later changes of the batch
 * are never applied before an earlier one, and nothing is skipped. Re-applying a change is harmless.
 */
export function createReplicationHandler(
  options: ReplicationHandlerOptions,
): (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse> {
  return async (event) => {
    for (const record of event.Records) {
      try {
        await apply(options, record);
      } catch (error) {
        const itemIdentifier = record.dynamodb?.SequenceNumber;
        (options.onFailed ?? logFailure)(record, error);
        // Without a sequence number Lambda cannot resume at the record: fail the whole batch instead.
        if (!itemIdentifier) throw error;
        return { batchItemFailures: [{ itemIdentifier }] };
      }
      options.onApplied?.(record);
    }
    return { batchItemFailures: [] };
  };
}

let deployed: ((event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>) | undefined;

/**
 * The deployed Lambda entry point. Environment: `TARGET_TABLE` (required). The client is created once per
 * execution environment, on the first invocation.
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  if (!deployed) {
    const targetTable = process.env.TARGET_TABLE;
    if (!targetTable) {
      throw new KinesisArchiveError('MISSING_CONFIG', 'the TARGET_TABLE environment variable is not set');
    }
    deployed = createReplicationHandler({ dynamodb: new DynamoDBClient({}), targetTable });
  }
  return deployed(event);
}
