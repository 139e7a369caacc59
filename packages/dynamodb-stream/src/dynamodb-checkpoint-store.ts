import { randomUUID } from 'node:crypto';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { forEachLimit } from '@kinesis-archive/core';
import type { CheckpointStore } from './checkpoint-store.js';
import { CheckpointConflictError } from './errors.js';
import { createKeyTable } from './key-table.js';
import { parseShardState, type ShardProgress, type ShardState } from './shard-state.js';

/** Options of {@link DynamoDBCheckpointStore}. */
export interface DynamoDBCheckpointStoreOptions {
  /** A configured SDK v3 DynamoDB client. */
  client: Pick<DynamoDBClient, 'send'>;
  /**
   * The checkpoint table: partition key `name` (S), sort key `shardId` (S). {@link DynamoDBCheckpointStore.createTable}
   * makes one.
   */
  tableName: string;
  /** The checkpoint's name: one per consumer of one stream (e.g. `orders-replica`). */
  name: string;
}

/** Writes of one save in flight at once. */
const WRITE_CONCURRENCY = 16;

type Item = Record<string, AttributeValue>;

/**
 * A {@link CheckpointStore} in a DynamoDB table, one item per shard, so a stream of any number of shards fits
 * (a single item holds 400 KB: about 2,600 shards). A save writes only the shards whose progress changed and deletes
 * the items of shards the state dropped. Every write is conditional on the item's `version`: when two consumers use
 * the same name, the second to write a shard gets a {@link CheckpointConflictError} instead of silently overwriting
 * the first one's progress.
 *
 * A write that was applied but whose answer was lost (retried by the SDK, or failed on the caller's side and saved
 * again later) is not a conflict: each store instance tags its writes with a random `writer` id, and a failed
 * condition on an item this instance wrote itself is resolved by writing again over it.
 *
 * Item layout: `name` (S, partition key), `shardId` (S, sort key), `sequenceNumber` (S), `parentShardId` (S),
 * `streamArn` (S), `closed` / `retired` (BOOL), `version` (N), `updatedAt` (S, ISO time), `writer` (S).
 *
 * @example
 * ```ts
 * await DynamoDBCheckpointStore.createTable(dynamodb, 'stream-checkpoints');
 * const checkpointStore = new DynamoDBCheckpointStore({ client: dynamodb, tableName: 'stream-checkpoints', name: 'replica' });
 * ```
 */
export class DynamoDBCheckpointStore implements CheckpointStore {
  private readonly options: DynamoDBCheckpointStoreOptions;
  /** Per shard: the version read by the last load or written by the last save, and what it holds (JSON). */
  private readonly known = new Map<string, { version: number; json: string }>();
  /** Tags this instance's writes, to recognise its own applied write whose answer was lost. */
  private readonly writer = randomUUID();

  constructor(options: DynamoDBCheckpointStoreOptions) {
    this.options = options;
  }

  /**
   * Creates a checkpoint table (on-demand billing) and waits until it is active. Does nothing when it exists.
   */
  static async createTable(client: Pick<DynamoDBClient, 'send'>, tableName: string): Promise<void> {
    await createKeyTable(client, tableName, 'name', 'shardId');
  }

  /** @throws {@link InvalidShardStateError} when an item does not hold a valid shard progress. */
  async load(): Promise<ShardState | undefined> {
    const { QueryCommand } = await import('@aws-sdk/client-dynamodb');
    this.known.clear();
    const raw: Record<string, unknown> = {};
    const versions = new Map<string, number>();
    let start: Item | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: '#n = :n',
          ExpressionAttributeNames: { '#n': 'name' },
          ExpressionAttributeValues: { ':n': { S: this.options.name } },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const shardId = item.shardId?.S;
        if (!shardId) continue;
        raw[shardId] = progressOf(item);
        versions.set(shardId, Number(item.version?.N ?? '0'));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    if (versions.size === 0) return undefined;
    const state = parseShardState(raw);
    for (const [shardId, progress] of Object.entries(state)) {
      this.known.set(shardId, { version: versions.get(shardId) ?? 0, json: JSON.stringify(progress) });
    }
    return state;
  }

  /**
   * Writes the shards whose progress changed since the last load or save, and deletes the items of shards `state`
   * no longer holds.
   *
   * @throws {@link CheckpointConflictError} when another writer wrote one of them since.
   */
  async save(state: ShardState): Promise<void> {
    const changed = Object.entries(state).filter(([id, p]) => this.known.get(id)?.json !== JSON.stringify(p));
    const dropped = [...this.known.keys()].filter((id) => state[id] === undefined);
    let conflict: unknown;
    const once = async (write: () => Promise<void>) => {
      try {
        await write();
      } catch (error) {
        conflict ??= error;
      }
    };
    await forEachLimit(changed, WRITE_CONCURRENCY, ([id, progress]) => once(() => this.put(id, progress)));
    await forEachLimit(dropped, WRITE_CONCURRENCY, (id) => once(() => this.remove(id)));
    if (conflict !== undefined) throw conflict;
  }

  private async put(shardId: string, progress: ShardProgress): Promise<void> {
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    const json = JSON.stringify(progress);
    // At most one resolution of our own earlier write (a lost answer), then the condition must hold.
    for (let attempt = 0; ; attempt++) {
      const expected = this.known.get(shardId)?.version;
      const next = (expected ?? 0) + 1;
      try {
        await this.options.client.send(
          new PutItemCommand({
            TableName: this.options.tableName,
            Item: {
              ...itemOf(progress),
              name: { S: this.options.name },
              shardId: { S: shardId },
              version: { N: String(next) },
              updatedAt: { S: new Date().toISOString() },
              writer: { S: this.writer },
            },
            ...this.condition(expected),
          }),
        );
        this.known.set(shardId, { version: next, json });
        return;
      } catch (error) {
        if (!(await this.ownWrite(error, shardId, expected, attempt))) throw this.conflictOf(error, expected);
      }
    }
  }

  private async remove(shardId: string): Promise<void> {
    const { DeleteItemCommand } = await import('@aws-sdk/client-dynamodb');
    for (let attempt = 0; ; attempt++) {
      const expected = this.known.get(shardId)?.version;
      try {
        await this.options.client.send(
          new DeleteItemCommand({
            TableName: this.options.tableName,
            Key: { name: { S: this.options.name }, shardId: { S: shardId } },
            ...this.condition(expected),
          }),
        );
        this.known.delete(shardId);
        return;
      } catch (error) {
        if (!(await this.ownWrite(error, shardId, expected, attempt))) throw this.conflictOf(error, expected);
      }
    }
  }

  private condition(expected: number | undefined): {
    ConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues?: Item;
  } {
    return expected === undefined
      ? {
          ConditionExpression: 'attribute_not_exists(#n)',
          ExpressionAttributeNames: { '#n': 'name' },
        }
      : {
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':v': { N: String(expected) } },
        };
  }

  private conflictOf(error: unknown, expected: number | undefined): unknown {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') return error;
    return new CheckpointConflictError(this.options.name, expected, error);
  }

  /**
   * After a failed condition: true when the item holds a newer write of this instance (its answer was lost), with
   * the version taken over so the write can be made again.
   */
  private async ownWrite(
    error: unknown,
    shardId: string,
    expected: number | undefined,
    attempt: number,
  ): Promise<boolean> {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException' || attempt > 0) return false;
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { name: { S: this.options.name }, shardId: { S: shardId } },
        ConsistentRead: true,
      }),
    );
    if (out.Item?.writer?.S !== this.writer) return false;
    const version = Number(out.Item.version?.N);
    if (!Number.isSafeInteger(version) || (expected !== undefined && version <= expected)) return false;
    this.known.set(shardId, { version, json: '' });
    return true;
  }
}

function itemOf(progress: ShardProgress): Item {
  const item: Item = {};
  if (progress.sequenceNumber !== undefined) item.sequenceNumber = { S: progress.sequenceNumber };
  if (progress.parentShardId !== undefined) item.parentShardId = { S: progress.parentShardId };
  if (progress.streamArn !== undefined) item.streamArn = { S: progress.streamArn };
  if (progress.closed) item.closed = { BOOL: true };
  if (progress.retired) item.retired = { BOOL: true };
  return item;
}

/** The progress fields of an item, as found (checked by `parseShardState`). */
function progressOf(item: Item): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (key === 'name' || key === 'shardId' || key === 'version' || key === 'updatedAt' || key === 'writer')
      continue;
    out[key] = value.S ?? value.BOOL ?? value.N ?? value;
  }
  return out;
}
