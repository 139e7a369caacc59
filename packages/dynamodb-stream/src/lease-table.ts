import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createKeyTable } from './key-table.js';

/** The checkpoint of a shard whose lease was drained to its end. */
export const SHARD_END = 'SHARD_END';

/** One shard's lease, as the lease table holds it. */
export interface Lease {
  shardId: string;
  /** The worker holding it; absent when free. */
  owner: string | undefined;
  /** Bumped by every renewal and every take: a lease whose counter stands still for the lease time is expired. */
  counter: number;
  /** The last settled sequence number, {@link SHARD_END}, or absent (read from the oldest record). */
  checkpoint: string | undefined;
  parentShardId: string | undefined;
  /** A worker that asked for the lease: its owner hands it over at its next renewal, after its last checkpoint. */
  pendingOwner: string | undefined;
}

type Client = Pick<DynamoDBClient, 'send'>;
type Item = Record<string, AttributeValue>;

function failedCondition(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

/**
 * The lease table of a stream's consumers: partition key `streamArn` (S), sort key `shardId` (S), one item per
 * shard: `leaseOwner` (S), `leaseCounter` (N), `checkpoint` (S), `parentShardId` (S). Every write that changes who
 * holds a lease is conditional on what the writer saw, so two workers never both hold one.
 */
export class LeaseTable {
  private readonly client: Client;
  private readonly tableName: string;
  private readonly streamArn: string;

  constructor(client: Client, tableName: string, streamArn: string) {
    this.client = client;
    this.tableName = tableName;
    this.streamArn = streamArn;
  }

  /** Creates a lease table (on-demand billing) and waits until it is active. Does nothing when it exists. */
  static async create(client: Client, tableName: string): Promise<void> {
    await createKeyTable(client, tableName, 'streamArn', 'shardId');
  }

  private key(shardId: string): Item {
    return { streamArn: { S: this.streamArn }, shardId: { S: shardId } };
  }

  /** Every lease of the stream (a consistent read). */
  async list(): Promise<Lease[]> {
    const { QueryCommand } = await import('@aws-sdk/client-dynamodb');
    const leases: Lease[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'streamArn = :s',
          ExpressionAttributeValues: { ':s': { S: this.streamArn } },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const shardId = item.shardId?.S;
        if (!shardId) continue;
        leases.push({
          shardId,
          owner: item.leaseOwner?.S,
          counter: Number(item.leaseCounter?.N ?? '0'),
          checkpoint: item.checkpoint?.S,
          parentShardId: item.parentShardId?.S,
          pendingOwner: item.pendingOwner?.S,
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return leases;
  }

  /** Creates a free lease for a shard unless one exists. */
  async ensure(shardId: string, parentShardId: string | undefined): Promise<void> {
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(shardId),
            leaseCounter: { N: '0' },
            ...(parentShardId ? { parentShardId: { S: parentShardId } } : {}),
          },
          ConditionExpression: 'attribute_not_exists(shardId)',
        }),
      );
    } catch (error) {
      if (!failedCondition(error)) throw error;
    }
  }

  /**
   * A conditional UpdateItem of one lease: the item as it is after the update, or `undefined` when the condition
   * failed (another worker moved first).
   */
  private async update(
    shardId: string,
    expression: string,
    condition: string,
    values: Item,
  ): Promise<Item | undefined> {
    const { UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(shardId),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ?? {};
    } catch (error) {
      if (failedCondition(error)) return undefined;
      throw error;
    }
  }

  /** Takes a lease as last seen (its owner and counter); the new counter, or `undefined` when another moved first. */
  async take(lease: Lease, workerId: string): Promise<number | undefined> {
    const next = lease.counter + 1;
    const out = await this.update(
      lease.shardId,
      'SET leaseOwner = :me, leaseCounter = :next REMOVE pendingOwner',
      'leaseCounter = :seen',
      { ':me': { S: workerId }, ':next': { N: String(next) }, ':seen': { N: String(lease.counter) } },
    );
    return out ? next : undefined;
  }

  /**
   * Renews a held lease: the new counter and the worker that asked for it, if one did; `undefined` when the lease
   * was lost (taken after it expired).
   */
  async renew(
    shardId: string,
    workerId: string,
    counter: number,
  ): Promise<{ counter: number; pendingOwner: string | undefined } | undefined> {
    const out = await this.update(
      shardId,
      'SET leaseCounter = :next',
      'leaseOwner = :me AND leaseCounter = :seen',
      {
        ':me': { S: workerId },
        ':next': { N: String(counter + 1) },
        ':seen': { N: String(counter) },
      },
    );
    return out ? { counter: counter + 1, pendingOwner: out.pendingOwner?.S } : undefined;
  }

  /**
   * Asks a live worker for its lease (to even out the share): `true` when asked. The owner hands it over at its
   * next renewal, once its last delivery settled and its checkpoint is written, so nothing is read twice.
   */
  async ask(lease: Lease, workerId: string): Promise<boolean> {
    const out = await this.update(
      lease.shardId,
      'SET pendingOwner = :me',
      'leaseOwner = :owner AND leaseCounter = :seen AND attribute_not_exists(pendingOwner)',
      { ':me': { S: workerId }, ':owner': { S: lease.owner ?? '' }, ':seen': { N: String(lease.counter) } },
    );
    return out !== undefined;
  }

  /** Hands a held lease over to the worker that asked for it. */
  async transfer(shardId: string, workerId: string, counter: number, to: string): Promise<void> {
    await this.update(
      shardId,
      'SET leaseOwner = :to, leaseCounter = :next REMOVE pendingOwner',
      'leaseOwner = :me AND leaseCounter = :seen',
      {
        ':me': { S: workerId },
        ':to': { S: to },
        ':next': { N: String(counter + 1) },
        ':seen': { N: String(counter) },
      },
    );
  }

  /** Writes a held lease's checkpoint; `false` when the lease is no longer this worker's. */
  async checkpoint(shardId: string, workerId: string, checkpoint: string): Promise<boolean> {
    const out = await this.update(shardId, 'SET checkpoint = :c', 'leaseOwner = :me', {
      ':me': { S: workerId },
      ':c': { S: checkpoint },
    });
    return out !== undefined;
  }

  /** Frees a held lease (a graceful stop): another worker takes it at once, without waiting for it to expire. */
  async release(shardId: string, workerId: string, counter: number): Promise<void> {
    await this.update(
      shardId,
      'REMOVE leaseOwner SET leaseCounter = :next',
      'leaseOwner = :me AND leaseCounter = :seen',
      { ':me': { S: workerId }, ':next': { N: String(counter + 1) }, ':seen': { N: String(counter) } },
    );
  }

  /** Deletes the lease of a drained shard (its children have checkpoints: it is never needed again). */
  async remove(shardId: string): Promise<void> {
    const { DeleteItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: this.key(shardId),
          ConditionExpression: 'checkpoint = :end',
          ExpressionAttributeValues: { ':end': { S: SHARD_END } },
        }),
      );
    } catch (error) {
      if (!failedCondition(error)) throw error;
    }
  }
}
