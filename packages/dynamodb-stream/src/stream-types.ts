import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BackoffOptions } from '@kinesis-archive/core';
import type { CheckpointStore } from './checkpoint-store.js';
import type { LeaseOptions } from './leases.js';
import type { ConsumerPhase } from './lifecycle.js';
import type { DataLossInfo } from './reader.js';
import type { ChangeRecord, Image, UnmarshallSetting } from './records.js';
import type { ShardState } from './shard-state.js';
import type { StreamStatus, StreamsClient } from './shard-tracker.js';
import type { PoisonInfo, PoisonOptions } from './shard-worker.js';

// The options and events of {@link DynamoDBStream} (in stream.ts).

/** Options of {@link DynamoDBStream}. */
export interface DynamoDBStreamOptions {
  /** A configured SDK v3 `DynamoDBStreamsClient` (anything with its `send`). */
  client: StreamsClient;
  /** The stream's ARN (`LatestStreamArn` of the table). */
  streamArn: string;
  /**
   * Where shards without saved progress begin on the very first start: `TRIM_HORIZON` (default, the oldest record)
   * or `LATEST` (only changes made from now on). Shards found later always begin at `TRIM_HORIZON`.
   */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** State to resume from (from {@link DynamoDBStream.getShardState}); wins over the checkpoint store's. */
  shardState?: ShardState;
  /**
   * Decode images with the SDK's `unmarshall` (`true`, default: numbers beyond what a JavaScript number holds
   * exactly become the SDK's `NumberValue`, see {@link exactNumbers}), with these `unmarshall` options, or not
   * (`false`: raw `AttributeValue`s).
   */
  unmarshall?: UnmarshallSetting;
  /**
   * Where the state is loaded from before the first read and saved as it moves (after each settled batch while
   * running, after each {@link DynamoDBStream.fetchStreamState}, and on stop).
   */
  checkpointStore?: CheckpointStore;
  /** `Limit` of each GetRecords call (1..1000). Default: the service's (1,000). */
  limit?: number;
  /** Backoff for throttled and failed calls (core's `BackoffOptions`). Default: 8 attempts within 30 s. */
  retry?: BackoffOptions;
  /** What happens to a change whose listeners keep failing (or that cannot be decoded): see {@link PoisonOptions}. */
  poison?: PoisonOptions;
  /**
   * Follow the table's stream across a disable and re-enable (which makes a new stream with a new ARN): once the
   * stream is `DISABLED` and drained, the table's `LatestStreamArn` is read (DescribeTable) at each listing, and a
   * new stream is followed from its oldest record, with a `'stream changed'` event. Without it, the consumer
   * stays on its stream and emits `'stream status'`.
   */
  followTable?: { dynamodb: Pick<DynamoDBClient, 'send'>; tableName: string };
  /**
   * Share the stream with other consumers (in this process or others) through shard leases in a DynamoDB table,
   * the KCL's way: each shard is read by one worker at a time, leases are spread evenly, a dead worker's leases
   * are taken over once they expire, and each shard's checkpoint is kept in its lease (no `checkpointStore`).
   * Only {@link DynamoDBStream.start} and {@link DynamoDBStream.batches} read with leases.
   */
  leases?: LeaseOptions;
}

/** The stream a consumer follows changed: the saved state was for an earlier stream of the table. */
export interface StreamChangedInfo {
  /** The stream the saved state belongs to. */
  previousStreamArn: string;
  /** The stream read from now on. */
  streamArn: string;
}

/** Events of {@link DynamoDBStream}. Listeners may be async: the state advances only once they settled. */
export interface DynamoDBStreamEvents {
  /** Every record, before its specific event. */
  record: [record: ChangeRecord];
  /** An item was created. */
  'insert record': [newImage: Image | undefined, keys: Image, record: ChangeRecord];
  /** An item was changed. */
  'modify record': [
    newImage: Image | undefined,
    oldImage: Image | undefined,
    keys: Image,
    record: ChangeRecord,
  ];
  /** An item was deleted (by a user or by TTL: see `record.ttlDelete`). */
  'remove record': [oldImage: Image | undefined, keys: Image, record: ChangeRecord];
  /** Shards seen for the first time. */
  'new shards': [shardIds: string[]];
  /** Shards retired: drained to their end, or vanished. */
  'remove shards': [shardIds: string[]];
  /** The state after it moved; saved already when a store is set. */
  checkpoint: [state: ShardState];
  /** Records could not be read (trimmed past retention, the shard vanished, or the stream was replaced). */
  'data loss': [info: DataLossInfo];
  /**
   * A change used up its attempts (see {@link PoisonOptions}) and no `onPoison` callback is set. The shard moves past
   * it once the listeners settled; a listener that throws makes it try again later.
   */
  poison: [info: PoisonInfo];
  /** The stream's status changed (e.g. to `DISABLED`: its shards are closed, it is drained, then nothing comes). */
  'stream status': [status: StreamStatus];
  /** The saved state belonged to another stream (the table's stream was disabled and enabled again). */
  'stream changed': [info: StreamChangedInfo];
  /** The consumer's phase changed (`starting`, `running`, `stopping`, `stopped`). */
  phase: [phase: ConsumerPhase];
  /** A failure. Read and listener failures are retried (the shard waits); a checkpoint conflict stops the consumer. */
  error: [error: Error];
}

/** Options of {@link DynamoDBStream.start} and {@link DynamoDBStream.batches}. */
export interface PollOptions {
  /** Pause of a shard after a read that found no record, in ms. Default 1,000. */
  pollIntervalMs?: number;
  /** Pause between two listings of the shards, in ms (a drained shard lists at once). Default 10,000. */
  shardDiscoveryIntervalMs?: number;
}

/** Options of {@link DynamoDBStream.catchUp}. */
export interface CatchUpOptions {
  /**
   * An open shard counts as caught up after this many empty pages in a row (DynamoDB Streams has no "behind
   * latest" figure, and may return empty pages before records further on), or once it delivered a change created
   * after the call. Default 3.
   */
  emptyPages?: number;
}
