import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';

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
    const { CreateTableCommand, DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [
            { AttributeName: 'streamArn', AttributeType: 'S' },
            { AttributeName: 'shardId', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'streamArn', KeyType: 'HASH' },
            { AttributeName: 'shardId', KeyType: 'RANGE' },
          ],
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
  async ensure(shardId: string, parentShardId: string | undefined, checkpoint?: string): Promise<void> {
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(shardId),
            leaseCounter: { N: '0' },
            ...(parentShardId ? { parentShardId: { S: parentShardId } } : {}),
            ...(checkpoint ? { checkpoint: { S: checkpoint } } : {}),
          },
          ConditionExpression: 'attribute_not_exists(shardId)',
        }),
      );
    } catch (error) {
      if (!failedCondition(error)) throw error;
    }
  }

  /** Takes a lease as last seen (its owner and counter); the new counter, or `undefined` when another moved first. */
  async take(lease: Lease, workerId: string): Promise<number | undefined> {
    const { UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(lease.shardId),
          UpdateExpression: 'SET leaseOwner = :me, leaseCounter = :next REMOVE pendingOwner',
          ConditionExpression: 'leaseCounter = :seen',
          ExpressionAttributeValues: {
            ':me': { S: workerId },
            ':next': { N: String(lease.counter + 1) },
            ':seen': { N: String(lease.counter) },
          },
        }),
      );
      return lease.counter + 1;
    } catch (error) {
      if (failedCondition(error)) return undefined;
      throw error;
    }
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
    const { UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(shardId),
          UpdateExpression: 'SET leaseCounter = :next',
          ConditionExpression: 'leaseOwner = :me AND leaseCounter = :seen',
          ExpressionAttributeValues: {
            ':me': { S: workerId },
            ':next': { N: String(counter + 1) },
            ':seen': { N: String(counter) },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { counter: counter + 1, pendingOwner: out.Attributes?.pendingOwner?.S };
    } catch (error) {
      if (failedCondition(error)) return undefined;
      throw error;
    }
  }

  /**
   * Asks a live worker for its lease (to even out the share): `true` when asked. The owner hands it over at its
   * next renewal, once its last delivery settled and its checkpoint is written, so nothing is read twice.
   */
  async ask(lease: Lease, workerId: string): Promise<boolean> {
    const { UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(lease.shardId),
          UpdateExpression: 'SET pendingOwner = :me',
          ConditionExpression:
            'leaseOwner = :owner AND leaseCounter = :seen AND attribute_not_exists(pendingOwner)',
          ExpressionAttributeValues: {
            ':me': { S: workerId },
            ':owner': { S: lease.owner ?? '' },
            ':seen': { N: String(lease.counter) },
          },
        }),
      );
      return true;
    } catch (error) {
      if (failedCondition(error)) return false;
      throw error;
    }
  }

  /** Hands a held lease over to the worker that asked for it. */
  async transfer(shardId: string, workerId: string, counter: number, to: string): Promise<void> {
    const { UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(shardId),
          UpdateExpression: 'SET leaseOwner = :to, leaseCounter = :next REMOVE pendingOwner',
          ConditionExpression: 'leaseOwner = :me AND leaseCounter = :seen',
          ExpressionAttributeValues: {
            ':me': { S: workerId },
            ':to': { S: to },
            ':next': { N: String(counter + 1) },
            ':seen': { N: String(counter) },
          },
        }),
      );
    } catch (error) {
      if (!failedCondition(error)) throw error;
    }
  }

  /** Writes a held lease's checkpoint; `false` when the lease is no longer this worker's. */
  async checkpoint(shardId: string, workerId: string, checkpoint: string): Promise<boolean> {
    const { UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(shardId),
          UpdateExpression: 'SET checkpoint = :c',
          ConditionExpression: 'leaseOwner = :me',
          ExpressionAttributeValues: { ':me': { S: workerId }, ':c': { S: checkpoint } },
        }),
      );
      return true;
    } catch (error) {
      if (failedCondition(error)) return false;
      throw error;
    }
  }

  /** Frees a held lease (a graceful stop): another worker takes it at once, without waiting for it to expire. */
  async release(shardId: string, workerId: string, counter: number): Promise<void> {
    const { UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(shardId),
          UpdateExpression: 'REMOVE leaseOwner SET leaseCounter = :next',
          ConditionExpression: 'leaseOwner = :me AND leaseCounter = :seen',
          ExpressionAttributeValues: {
            ':me': { S: workerId },
            ':next': { N: String(counter + 1) },
            ':seen': { N: String(counter) },
          },
        }),
      );
    } catch (error) {
      if (!failedCondition(error)) throw error;
    }
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
