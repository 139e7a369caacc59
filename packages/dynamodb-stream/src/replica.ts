import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall, type unmarshallOptions } from '@aws-sdk/util-dynamodb';
import { isTransientError, KinesisArchiveError, retry } from '@kinesis-archive/core';
import { BookmarkGate } from './bookmark-gate.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { type ChangeRecord, type Image, unmarshallOptionsOf } from './records.js';
import type { StreamsClient } from './shard-tracker.js';
import { DynamoDBStream, holdSaves } from './stream.js';
import type { CatchUpOptions, DynamoDBStreamOptions, PollOptions } from './stream-types.js';

/** A change to apply to a replica: an item written (from the scan or the stream) or deleted. */
export type ReplicaChange =
  | { type: 'put'; key: string; keys: Image; item: Image; record?: ChangeRecord }
  | { type: 'delete'; key: string; keys: Image; record: ChangeRecord };

/** Options of {@link TableReplica}. */
export interface TableReplicaOptions {
  /** A configured SDK v3 DynamoDB client (for DescribeTable and Scan). */
  dynamodb: Pick<DynamoDBClient, 'send'>;
  /** A configured SDK v3 DynamoDB Streams client. */
  streams: StreamsClient;
  /** The table to copy. Its stream must carry new images (NEW_IMAGE or NEW_AND_OLD_IMAGES). */
  tableName: string;
  /** Parallel Scan segments. Default 4. */
  segments?: number;
  /**
   * Called for every change, in order per item. Without it, the replica is kept in {@link TableReplica.items}.
   * May be async: the stream does not move past a change before it settled.
   */
  apply?: (change: ReplicaChange) => void | Promise<void>;
  /**
   * `unmarshall` options for items and images. Default: numbers a JavaScript number cannot hold exactly (beyond
   * 2^53, or with more digits than a double keeps) become the SDK's `NumberValue` ({@link exactNumbers}).
   */
  unmarshall?: unmarshallOptions;
  /** Extra options of the underlying {@link DynamoDBStream} (e.g. `retry`, `limit`, `poison`). */
  stream?: Pick<DynamoDBStreamOptions, 'retry' | 'limit' | 'poison'>;
  /** When {@link TableReplica.sync} counts the stream as caught up (see {@link CatchUpOptions}). */
  catchUp?: CatchUpOptions;
  /**
   * Where the stream position is kept between runs (e.g. a {@link DynamoDBCheckpointStore}). When it holds a
   * checkpoint, {@link TableReplica.sync} skips the scan and resumes the stream after it: the target must then
   * already hold everything applied before, so this mode needs an `apply` callback that writes to a durable store
   * (another table, a database), never the in-memory {@link TableReplica.items}. When it holds none, the replica
   * bookmarks, scans and follows as usual and saves checkpoints once the scan is done, as the stream advances.
   */
  checkpointStore?: CheckpointStore;
}

/** Where a synced {@link TableReplica} started: a full scan, or the saved checkpoint. */
export type ReplicaStart = 'scan' | 'checkpoint';

/** Thrown when the table cannot be replicated (no stream, or a stream without new images). */
export class ReplicaConfigError extends KinesisArchiveError {
  constructor(tableName: string, reason: string) {
    super('REPLICA_CONFIG', `table ${tableName} cannot be replicated: ${reason}`, { details: { tableName } });
  }
}

/**
 * Keeps a copy of a table: bookmarks the stream (read positions opened at LATEST), scans the table in parallel
 * segments, then applies the stream's changes from the bookmark, in order. Changes made during the scan may be
 * applied over newer scanned values for a moment; as every change carries the full new image and changes of an item
 * come in order, the replica equals the table once the stream is caught up.
 *
 * With a `checkpointStore`, a restart resumes the stream after the last saved checkpoint instead of scanning again
 * (see {@link TableReplicaOptions.checkpointStore}). Checkpoints are saved only once the scan finished and every
 * shard bookmarked at LATEST delivered its first change (a bookmark has no sequence number before that, and a
 * saved state without one would re-read that shard from its oldest record): a restart before then scans again.
 *
 * @example
 * ```ts
 * const replica = new TableReplica({ dynamodb, streams, tableName: 'orders' });
 * await replica.sync();                 // bookmark, scan, catch up
 * replica.start({ pollIntervalMs: 500 }); // follow
 * console.log(replica.items.size);
 * await replica.stop();
 * ```
 */
export class TableReplica {
  /** The replica, keyed by {@link TableReplica.keyOf} (empty when an `apply` callback is given). */
  readonly items: Map<string, Image> = new Map();
  private readonly options: TableReplicaOptions;
  private keyNames: string[] = [];
  private streamInstance: DynamoDBStream | undefined;
  private started: ReplicaStart | undefined;

  /** @throws {@link ReplicaConfigError} for a `checkpointStore` without an `apply` callback. */
  constructor(options: TableReplicaOptions) {
    if (options.checkpointStore && !options.apply) {
      throw new ReplicaConfigError(
        options.tableName,
        'a checkpointStore needs an apply callback writing to a durable store (the in-memory items do not survive a restart)',
      );
    }
    this.options = options;
  }

  /** How the last {@link sync} started: `'scan'` or `'checkpoint'` (resumed); `undefined` before it. */
  get startedFrom(): ReplicaStart | undefined {
    return this.started;
  }

  /** The underlying stream consumer (after {@link sync}): listen to its `'error'` and `'data loss'` events. */
  get stream(): DynamoDBStream | undefined {
    return this.streamInstance;
  }

  /** The replica key of an item or a record's keys: the key attributes' values, as JSON, in key-schema order. */
  keyOf(keys: Image): string {
    return JSON.stringify(this.keyNames.map((name) => keys[name]));
  }

  /**
   * Bookmarks the stream, scans the table into the replica and applies the stream up to now. With a
   * `checkpointStore` holding a checkpoint: no bookmark and no scan, the stream is applied from the checkpoint.
   *
   * @throws {@link ReplicaConfigError} when the table has no stream with new images.
   */
  async sync(): Promise<void> {
    // Again: the earlier stream stops, its listeners go, and the replica is rebuilt from scratch.
    const earlier = this.streamInstance;
    this.streamInstance = undefined;
    if (earlier) {
      await earlier.stop();
      earlier.removeAllListeners('record');
    }
    this.items.clear();
    const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    const { Table } = await this.options.dynamodb.send(
      new DescribeTableCommand({ TableName: this.options.tableName }),
    );
    const view = Table?.StreamSpecification?.StreamViewType;
    if (!Table?.LatestStreamArn || !Table.StreamSpecification?.StreamEnabled) {
      throw new ReplicaConfigError(this.options.tableName, 'it has no stream');
    }
    if (view !== 'NEW_IMAGE' && view !== 'NEW_AND_OLD_IMAGES') {
      throw new ReplicaConfigError(this.options.tableName, `its stream view type ${view} has no new images`);
    }
    this.keyNames = (Table.KeySchema ?? []).map((k) => k.AttributeName ?? '');
    const store = this.options.checkpointStore;
    const gate = store ? new BookmarkGate() : undefined;
    const saved = await store?.load();
    const stream = new DynamoDBStream({
      ...this.options.stream,
      client: this.options.streams,
      streamArn: Table.LatestStreamArn,
      unmarshall: this.options.unmarshall ?? true,
      // Resume: shards the checkpoint does not know (children) begin at TRIM_HORIZON. Fresh: bookmark at LATEST.
      // The state is given here, so the stream never loads the store a second time.
      shardState: saved ?? {},
      ...(saved === undefined ? { startingPosition: 'LATEST' as const } : {}),
      ...(store ? { checkpointStore: store } : {}),
    });
    if (gate) holdSaves(stream, (state) => gate.holding(state));
    stream.on('record', (record) => this.applyRecord(record));
    this.streamInstance = stream;
    if (saved !== undefined) {
      this.started = 'checkpoint';
    } else {
      this.started = 'scan';
      gate?.scanStarted();
      await stream.bookmark();
      const state = stream.getShardState();
      gate?.waitFor(Object.keys(state).filter((id) => !state[id]!.retired && !state[id]!.sequenceNumber));
      await this.scan();
      gate?.scanDone();
    }
    await this.catchUp();
  }

  /**
   * Reads the stream until it is caught up: every change committed before the call is applied (see
   * {@link TableReplicaOptions.catchUp}). Rejects on the first failure (a read, an `apply`).
   */
  async catchUp(): Promise<void> {
    await this.requireStream().catchUp(this.options.catchUp);
  }

  /** Follows the stream until {@link stop}, saving checkpoints as it advances (when a store is set). Call {@link sync} first. */
  start(options: PollOptions = {}): void {
    this.requireStream().start(options);
  }

  /** Stops following the stream: waits for the poll in flight and saves the last checkpoint (when a store is set). */
  async stop(): Promise<void> {
    await this.streamInstance?.stop();
  }

  private requireStream(): DynamoDBStream {
    if (!this.streamInstance) throw new ReplicaConfigError(this.options.tableName, 'call sync() first');
    return this.streamInstance;
  }

  /** A parallel scan; the first failing segment stops the others before their next page or item. */
  private async scan(): Promise<void> {
    const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
    const total = Math.max(1, Math.floor(this.options.segments ?? 4));
    const abort = new AbortController();
    const options = unmarshallOptionsOf(this.options.unmarshall ?? true);
    const segment = async (index: number): Promise<void> => {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await retry(
          () =>
            this.options.dynamodb.send(
              new ScanCommand({
                TableName: this.options.tableName,
                Segment: index,
                TotalSegments: total,
                ConsistentRead: true,
                ...(start ? { ExclusiveStartKey: start } : {}),
              }),
              { abortSignal: abort.signal },
            ),
          { isRetryable: isTransientError, signal: abort.signal },
        );
        for (const raw of page.Items ?? []) {
          if (abort.signal.aborted) return;
          await this.put(unmarshall(raw, options), undefined);
        }
        start = page.LastEvaluatedKey;
      } while (start && !abort.signal.aborted);
    };
    await Promise.all(
      Array.from({ length: total }, (_, i) =>
        segment(i).catch((error: unknown) => {
          abort.abort();
          throw error;
        }),
      ),
    );
  }

  private async put(item: Image, record: ChangeRecord | undefined): Promise<void> {
    const keys: Image = {};
    for (const name of this.keyNames) keys[name] = item[name];
    const key = this.keyOf(keys);
    if (this.options.apply) {
      await this.options.apply({ type: 'put', key, keys, item, ...(record ? { record } : {}) });
    } else {
      this.items.set(key, item);
    }
  }

  private async applyRecord(record: ChangeRecord): Promise<void> {
    if (record.eventName === 'REMOVE') {
      const key = this.keyOf(record.keys);
      if (this.options.apply) await this.options.apply({ type: 'delete', key, keys: record.keys, record });
      else this.items.delete(key);
      return;
    }
    if (!record.newImage) {
      throw new ReplicaConfigError(
        this.options.tableName,
        `record ${record.sequenceNumber} has no new image`,
      );
    }
    await this.put(record.newImage, record);
  }
}
