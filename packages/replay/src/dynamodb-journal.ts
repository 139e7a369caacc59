import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type BackoffOptions, retry } from '@kinesis-archive/core';
import { type FailureJournal, isJournalEntry, type JournalEntry } from './journal.js';

type Item = Record<string, AttributeValue>;

/** The DynamoDB client module, loaded on first use: a replay without this journal does not need it installed. */
let sdk: Promise<typeof import('@aws-sdk/client-dynamodb')> | undefined;
function dynamodbSdk(): Promise<typeof import('@aws-sdk/client-dynamodb')> {
  sdk ??= import('@aws-sdk/client-dynamodb');
  return sdk;
}

/** Payload bytes (base64) per item: well under DynamoDB's 400 KB item limit. */
const CHUNK_CHARS = 300_000;

/** Options of {@link DynamoDBFailureJournal}. */
export interface DynamoDBFailureJournalOptions {
  /** Your configured DynamoDB client (AWS SDK v3). */
  dynamodb: DynamoDBClient;
  /** A table keyed by `jobId` (S, partition key) and `id` (S, sort key); see {@link DynamoDBFailureJournal.createTable}. */
  tableName: string;
  /** The job (replay) the entries belong to: several jobs can share a table. */
  jobId: string;
  /** Backoff of throttled and transient calls. */
  retry?: Omit<BackoffOptions, 'signal'> | undefined;
}

/**
 * A failure journal in a DynamoDB table: one item per entry under the job's partition key, large payloads split
 * over extra items (`<id>#<n>`). Every call is retried on throttling and transient errors; `append` resolves once
 * DynamoDB stored every item. Several workers of one job may share it (ids never collide).
 *
 * @example
 * ```ts
 * await DynamoDBFailureJournal.createTable(dynamodb, 'replay-journal');
 * const journal = new DynamoDBFailureJournal({ dynamodb, tableName: 'replay-journal', jobId: 'rebuild-2026-12' });
 * ```
 */
export class DynamoDBFailureJournal implements FailureJournal {
  constructor(private readonly options: DynamoDBFailureJournalOptions) {}

  /** Creates a journal table (on-demand billing) and waits until it is active. Resolves if it exists. */
  static async createTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
    const { CreateTableCommand, waitUntilTableExists } = await dynamodbSdk();
    try {
      await dynamodb.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'jobId', AttributeType: 'S' },
            { AttributeName: 'id', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'jobId', KeyType: 'HASH' },
            { AttributeName: 'id', KeyType: 'RANGE' },
          ],
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
    }
    await waitUntilTableExists({ client: dynamodb, maxWaitTime: 120 }, { TableName: tableName });
  }

  async append(entries: readonly JournalEntry[]): Promise<void> {
    for (const entry of entries) {
      const { data, ...rest } = entry.record;
      const chunks: string[] = [];
      for (let i = 0; i < data.length; i += CHUNK_CHARS) chunks.push(data.slice(i, i + CHUNK_CHARS));
      // chunks first: the head (what `list` finds) is written last
      for (let n = 1; n < chunks.length; n++) {
        await this.put({ ...this.key(`${entry.id}#${String(n).padStart(5, '0')}`), data: { S: chunks[n]! } });
      }
      await this.put({
        ...this.key(entry.id),
        entry: { S: JSON.stringify({ ...entry, record: { ...rest, data: '' } }) },
        data: { S: chunks[0] ?? '' },
        chunks: { N: String(Math.max(1, chunks.length)) },
      });
    }
  }

  async *list(): AsyncIterable<JournalEntry> {
    const { QueryCommand } = await dynamodbSdk();
    let start: Item | undefined;
    let head: { entry: JournalEntry; parts: string[]; chunks: number } | undefined;
    const done = function* (h: typeof head): Generator<JournalEntry> {
      if (h && h.parts.length === h.chunks)
        yield { ...h.entry, record: { ...h.entry.record, data: h.parts.join('') } };
    };
    do {
      const page = await this.call(() =>
        this.options.dynamodb.send(
          new QueryCommand({
            TableName: this.options.tableName,
            KeyConditionExpression: 'jobId = :j',
            ExpressionAttributeValues: { ':j': { S: this.options.jobId } },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const id = item.id?.S ?? '';
        if (item.entry?.S !== undefined) {
          yield* done(head);
          const entry = JSON.parse(item.entry.S) as unknown;
          head = isJournalEntry(entry)
            ? { entry, parts: [item.data?.S ?? ''], chunks: Number(item.chunks?.N ?? '1') }
            : undefined;
        } else if (head && id.startsWith(`${head.entry.id}#`)) {
          head.parts.push(item.data?.S ?? '');
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    yield* done(head);
  }

  async remove(ids: readonly string[]): Promise<void> {
    const { DeleteItemCommand } = await dynamodbSdk();
    for (const id of ids) {
      // the head first: once it is gone the entry is gone; its chunks after it
      const out = await this.call(() =>
        this.options.dynamodb.send(
          new DeleteItemCommand({
            TableName: this.options.tableName,
            Key: this.key(id),
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      const chunks = Number(out.Attributes?.chunks?.N ?? '1');
      for (let n = 1; n < chunks; n++) {
        await this.call(() =>
          this.options.dynamodb.send(
            new DeleteItemCommand({
              TableName: this.options.tableName,
              Key: this.key(`${id}#${String(n).padStart(5, '0')}`),
            }),
          ),
        );
      }
    }
  }

  private key(id: string): Item {
    return { jobId: { S: this.options.jobId }, id: { S: id } };
  }

  private async put(item: Item): Promise<unknown> {
    const { PutItemCommand } = await dynamodbSdk();
    return this.call(() =>
      this.options.dynamodb.send(new PutItemCommand({ TableName: this.options.tableName, Item: item })),
    );
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return retry(fn, { maxAttempts: 8, ...this.options.retry });
  }
}
