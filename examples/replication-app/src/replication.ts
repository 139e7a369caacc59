import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  type ChangeRecord,
  DynamoDBCheckpointStore,
  type DynamoDBStream,
  type Image,
  type ReplicaChange,
  type ReplicaStart,
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
  readonly startedFrom: ReplicaStart;
  /** The stream consumer (its `'data loss'` event says when the stream was trimmed past the checkpoint). */
  readonly stream: DynamoDBStream;
  /** Stops following: waits for the poll in flight and saves the last checkpoint. */
  stop(): Promise<void>;
}

/**
 * Keeps `targetTable` a copy of `sourceTable` with a `TableReplica` whose checkpoints go to `checkpointTable`. First
 * start (no checkpoint): it bookmarks the stream, scans the source into the target and follows the stream. Later
 * starts resume the stream after the checkpoint, with no new scan. Changes of one item are applied in stream order,
 * each a full new image or a delete, so the target converges to the source.
 *
 * @throws `ReplicaConfigError` (code `REPLICA_CONFIG`) when the source has no stream with new images.
 */
export async function startReplication(options: ReplicationOptions): Promise<Replication> {
  const { dynamodb, targetTable } = options;
  await DynamoDBCheckpointStore.createTable(dynamodb, options.checkpointTable);
  const checkpointStore = new DynamoDBCheckpointStore({
    client: dynamodb,
    tableName: options.checkpointTable,
    name: options.checkpointName ?? `replica:${options.sourceTable}->${targetTable}`,
  });
  const apply = async (change: ReplicaChange): Promise<void> => {
    if (change.type === 'put') await putItem(dynamodb, targetTable, change.item);
    else await deleteItem(dynamodb, targetTable, change.keys);
    options.onChange?.({
      type: change.type,
      origin: change.record ? 'stream' : 'scan',
      keys: change.keys,
      ...(change.type === 'put' ? { item: change.item } : {}),
      ...(change.record ? { record: change.record } : {}),
    });
  };
  const replica = new TableReplica({
    dynamodb,
    streams: options.dynamodbStreams,
    tableName: options.sourceTable,
    unmarshall: EXACT_UNMARSHALL,
    checkpointStore,
    apply,
  });
  await replica.sync();
  const stream = replica.stream!;
  stream.on('error', options.onError ?? ((error: Error) => console.error('replication:', error)));
  replica.start({ pollIntervalMs: options.pollIntervalMs ?? 1_000 });
  return { startedFrom: replica.startedFrom!, stream, stop: () => replica.stop() };
}
