import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CheckpointStore } from './checkpoint-store.js';
import { CheckpointConflictError } from './errors.js';
import { parseShardState, type ShardState } from './shard-state.js';

/** Options of {@link DynamoDBCheckpointStore}. */
export interface DynamoDBCheckpointStoreOptions {
  /** A configured SDK v3 DynamoDB client. */
  client: Pick<DynamoDBClient, 'send'>;
  /** The checkpoint table (partition key `name`, type S). {@link DynamoDBCheckpointStore.createTable} makes one. */
  tableName: string;
  /** The checkpoint's name: one per consumer of one stream (e.g. `orders-replica`). */
  name: string;
}

/**
 * A {@link CheckpointStore} in a small DynamoDB table. Every save is a conditional write on a `version` attribute:
 * when two consumers use the same name, the second to save gets a {@link CheckpointConflictError} instead of
 * silently overwriting the first one's progress.
 *
 * A save whose write was applied but whose answer was lost (retried by the SDK, or failed on the caller's side and
 * saved again later) is not a conflict: each store instance tags its writes with a random `writer` id, and a failed
 * condition on an item this instance wrote itself is resolved by saving again over it.
 *
 * Item layout: `name` (S, key), `state` (S, JSON of the {@link ShardState}), `version` (N), `updatedAt` (S, ISO time),
 * `writer` (S, the id of the store instance that wrote it).
 *
 * @example
 * ```ts
 * await DynamoDBCheckpointStore.createTable(dynamodb, 'stream-checkpoints');
 * const checkpointStore = new DynamoDBCheckpointStore({ client: dynamodb, tableName: 'stream-checkpoints', name: 'replica' });
 * ```
 */
export class DynamoDBCheckpointStore implements CheckpointStore {
  private readonly options: DynamoDBCheckpointStoreOptions;
  /** Version read by the last load or written by the last save; `undefined`: the item is expected not to exist. */
  private version: number | undefined;
  /** Tags this instance's writes, to recognise its own applied write whose answer was lost. */
  private readonly writer = randomUUID();

  constructor(options: DynamoDBCheckpointStoreOptions) {
    this.options = options;
  }

  /**
   * Creates a checkpoint table (on-demand billing) and waits until it is active. Does nothing when it exists.
   */
  static async createTable(client: Pick<DynamoDBClient, 'send'>, tableName: string): Promise<void> {
    const { CreateTableCommand, DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [{ AttributeName: 'name', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'name', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
    }
    for (let i = 0; i < 600; i++) {
      const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (out.Table?.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async load(): Promise<ShardState | undefined> {
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { name: { S: this.options.name } },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) {
      this.version = undefined;
      return undefined;
    }
    this.version = Number(out.Item.version?.N ?? '0');
    return parseShardState(JSON.parse(out.Item.state?.S ?? '{}'));
  }

  /** @throws {@link CheckpointConflictError} when another writer saved since this store's last load or save. */
  async save(state: ShardState): Promise<void> {
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    // At most one resolution of our own earlier write (a lost answer), then the condition must hold.
    for (let attempt = 0; ; attempt++) {
      const expected = this.version;
      const next = (expected ?? 0) + 1;
      try {
        await this.options.client.send(
          new PutItemCommand({
            TableName: this.options.tableName,
            Item: {
              name: { S: this.options.name },
              state: { S: JSON.stringify(state) },
              version: { N: String(next) },
              updatedAt: { S: new Date().toISOString() },
              writer: { S: this.writer },
            },
            ...(expected === undefined
              ? {
                  ConditionExpression: 'attribute_not_exists(#n)',
                  ExpressionAttributeNames: { '#n': 'name' },
                }
              : {
                  ConditionExpression: '#v = :v',
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: { ':v': { N: String(expected) } },
                }),
          }),
        );
      } catch (error) {
        if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
          const own = attempt === 0 ? await this.ownVersion() : undefined;
          if (own !== undefined && (expected === undefined || own > expected)) {
            // The item holds a write of this instance whose answer was lost: save again over it.
            this.version = own;
            continue;
          }
          throw new CheckpointConflictError(this.options.name, expected, error);
        }
        throw error;
      }
      this.version = next;
      return;
    }
  }

  /** The version of the stored item when this instance wrote it, else `undefined`. */
  private async ownVersion(): Promise<number | undefined> {
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { name: { S: this.options.name } },
        ConsistentRead: true,
      }),
    );
    if (out.Item?.writer?.S !== this.writer) return undefined;
    const version = Number(out.Item.version?.N);
    return Number.isSafeInteger(version) ? version : undefined;
  }
}
