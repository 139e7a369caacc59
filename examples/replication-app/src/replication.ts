import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { KinesisArchiveError } from '@kinesis-archive/core';
import {
  type ChangeRecord,
  DynamoDBCheckpointStore,
  DynamoDBStream,
  type Image,
  type ReplicaChange,
  ReplicaConfigError,
  TableReplica,
} from '@kinesis-archive/dynamodb-stream';
import { deleteItem, EXACT_UNMARSHALL, putItem } from './target.js';

/** A change as the replication app reports it. */
export interface ReplicatedChange {
  /** `put`: the item was written to the target; `delete`: removed from it. */
  type: 'put' | 'delete';
  /** Where it came from: the initial scan of the source, or its stream. */
  origin: 'scan' | 'stream';
  /** The item's key attributes. */
  keys: Image;
  /** The item written (for `put`). */
  item?: Image;
  /** The stream record (for `origin: 'stream'`). */
  record?: ChangeRecord;
}

/** Options of {@link startReplication}. */
export interface ReplicationOptions {
  /** Client of the source and target tables (and the checkpoint table). */
  dynamodb: DynamoDBClient;
  /** Client of the source table's stream. */
  dynamodbStreams: DynamoDBStreamsClient;
  /** The table to copy. Its stream must carry new images. */
  sourceTable: string;
  /** The table that receives the copy (same key schema as the source). */
  targetTable: string;
  /** The checkpoint table (created when missing). */
  checkpointTable: string;
  /** The checkpoint's name. Default `replica:<source>-><target>`. */
  checkpointName?: string;
  /** Pause after an empty poll. Default 1,000 ms. */
  pollIntervalMs?: number;
  /** Called after each change was applied to the target. */
  onChange?: (change: ReplicatedChange) => void;
  /** Called for errors of the stream consumer (it goes on; the failed shard is read again). Default `console.error`. */
  onError?: (error: Error) => void;
}

/** A running replication. */
export interface Replication {
  /** `scan`: the source was copied by a scan first (no checkpoint yet); `checkpoint`: resumed from the checkpoint. */
  readonly startedFrom: 'scan' | 'checkpoint';
  /** The stream consumer (its `'data loss'` event says when the stream was trimmed past the checkpoint). */
  readonly stream: DynamoDBStream;
  /** Stops following: waits for the poll in flight and saves the last checkpoint. */
  stop(): Promise<void>;
}

/** Thrown when the source table has no stream. Code `SOURCE_HAS_NO_STREAM`. */
export class SourceHasNoStreamError extends KinesisArchiveError {
  constructor(tableName: string) {
    super('SOURCE_HAS_NO_STREAM', `table ${tableName} has no stream to replicate from`, {
      details: { tableName },
    });
  }
}

/**
 * Keeps `targetTable` a copy of `sourceTable`. First start (no checkpoint): `TableReplica` bookmarks the stream,
 * scans the source into the target and catches up; from then on every checkpoint is saved in `checkpointTable`.
 * Later starts resume the stream after the checkpoint's sequence numbers, with no new scan. Changes of one item are
 * applied in stream order, each a full new image or a delete, so the target converges to the source.
 */
export async function startReplication(options: ReplicationOptions): Promise<Replication> {
  const { dynamodb, targetTable } = options;
  await DynamoDBCheckpointStore.createTable(dynamodb, options.checkpointTable);
  const store = new DynamoDBCheckpointStore({
    client: dynamodb,
    tableName: options.checkpointTable,
    name: options.checkpointName ?? `replica:${options.sourceTable}->${targetTable}`,
  });
  const onError = options.onError ?? ((error: Error) => console.error('replication:', error));
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;

  const applyChange = async (change: ReplicatedChange): Promise<void> => {
    if (change.type === 'put') await putItem(dynamodb, targetTable, change.item ?? {});
    else await deleteItem(dynamodb, targetTable, change.keys);
    options.onChange?.(change);
  };

  const saved = await store.load();
  if (saved === undefined) {
    const replica = new TableReplica({
      dynamodb,
      streams: options.dynamodbStreams,
      tableName: options.sourceTable,
      unmarshall: EXACT_UNMARSHALL,
      apply: (change: ReplicaChange) =>
        applyChange({
          type: change.type,
          origin: change.record ? 'stream' : 'scan',
          keys: change.keys,
          ...(change.type === 'put' ? { item: change.item } : {}),
          ...(change.record ? { record: change.record } : {}),
        }),
    });
    await replica.sync();
    const stream = replica.stream!;
    stream.on('error', onError);
    // TableReplica keeps no checkpoint itself: save the bookmark now, and every later state of its stream.
    await store.save(stream.getShardState());
    stream.on('checkpoint', (state) => store.save(state));
    stream.start({ pollIntervalMs });
    return { startedFrom: 'scan', stream, stop: () => replica.stop() };
  }

  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: options.sourceTable }));
  if (!Table?.LatestStreamArn) throw new SourceHasNoStreamError(options.sourceTable);
  const stream = new DynamoDBStream({
    client: options.dynamodbStreams,
    streamArn: Table.LatestStreamArn,
    checkpointStore: store,
    unmarshall: EXACT_UNMARSHALL,
  });
  stream.on('error', onError);
  stream.on('record', (record) => {
    if (record.eventName === 'REMOVE') {
      return applyChange({ type: 'delete', origin: 'stream', keys: record.keys, record });
    }
    // Thrown from a listener: the stream stops at this record and reports it; it is never skipped.
    if (!record.newImage)
      throw new ReplicaConfigError(options.sourceTable, 'its stream carries no new images');
    return applyChange({ type: 'put', origin: 'stream', keys: record.keys, item: record.newImage, record });
  });
  stream.start({ pollIntervalMs });
  return { startedFrom: 'checkpoint', stream, stop: () => stream.stop() };
}
