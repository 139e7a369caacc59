import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { sleep } from '@kinesis-archive/core';
import {
  ArchiveTableNotActiveError,
  ArchiveTableSchemaError,
  InvalidArchiveOptionError,
  isResourceNotFound,
} from './errors.js';
import type { ArchiveMode } from './types.js';

/** Provisioned capacity, or `'PAY_PER_REQUEST'` (on-demand, the default). */
export type ArchiveBilling = 'PAY_PER_REQUEST' | { readCapacityUnits: number; writeCapacityUnits: number };

/** Options of {@link createArchiveTable}. */
export interface CreateArchiveTableOptions {
  /** Name of the table (see {@link archiveTableName}). */
  tableName: string;
  /** `ALL` adds the `sequenceKey` range key; `LATEST` has only the `partitionKey` hash key. */
  mode: ArchiveMode;
  /** Enable DynamoDB TTL on `expireAfter`. Default `true`. */
  ttl?: boolean;
  /** Default on-demand. */
  billing?: ArchiveBilling;
  /** How long to wait for the table to become ACTIVE. Default 60 s. */
  timeoutMs?: number;
}

/** What {@link createArchiveTable} did. */
export interface CreateArchiveTableResult {
  /** The table's name. */
  tableName: string;
  /** False when the table already existed (with the right schema). */
  created: boolean;
}

/** The conventional archive table name of a stream: `<stream>-archive-<MODE>`. */
export function archiveTableName(streamName: string, mode: ArchiveMode): string {
  return `${streamName}-archive-${mode}`;
}

function expectedSchema(mode: ArchiveMode): string {
  return mode === 'ALL' ? 'partitionKey (S, HASH) + sequenceKey (S, RANGE)' : 'partitionKey (S, HASH)';
}

function actualSchema(table: TableDescription): string {
  const types = new Map((table.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
  return (table.KeySchema ?? [])
    .map((k) => `${k.AttributeName} (${types.get(k.AttributeName) ?? '?'}, ${k.KeyType})`)
    .join(' + ');
}

async function describe(dynamodb: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (isResourceNotFound(error)) return undefined;
    throw error;
  }
}

function createInput(options: CreateArchiveTableOptions): CreateTableCommandInput {
  const all = options.mode === 'ALL';
  const billing = options.billing ?? 'PAY_PER_REQUEST';
  return {
    TableName: options.tableName,
    KeySchema: [
      { AttributeName: 'partitionKey', KeyType: 'HASH' },
      ...(all ? [{ AttributeName: 'sequenceKey', KeyType: 'RANGE' as const }] : []),
    ],
    AttributeDefinitions: [
      { AttributeName: 'partitionKey', AttributeType: 'S' },
      ...(all ? [{ AttributeName: 'sequenceKey', AttributeType: 'S' as const }] : []),
    ],
    ...(billing === 'PAY_PER_REQUEST'
      ? { BillingMode: 'PAY_PER_REQUEST' as const }
      : {
          BillingMode: 'PROVISIONED' as const,
          ProvisionedThroughput: {
            ReadCapacityUnits: billing.readCapacityUnits,
            WriteCapacityUnits: billing.writeCapacityUnits,
          },
        }),
  };
}

/**
 * Creates the archive table for `mode` (on-demand by default), waits until it is ACTIVE and enables TTL on
 * `expireAfter`. Idempotent: an existing table with the right key schema is kept as it is (TTL is enabled on it
 * when off).
 *
 * @example
 * ```ts
 * await createArchiveTable(dynamodb, { tableName: archiveTableName('orders', 'ALL'), mode: 'ALL' });
 * ```
 * @throws {@link ArchiveTableSchemaError} when a table of that name exists with another key schema.
 */
export async function createArchiveTable(
  dynamodb: DynamoDBClient,
  options: CreateArchiveTableOptions,
): Promise<CreateArchiveTableResult> {
  if (options.mode !== 'ALL' && options.mode !== 'LATEST') {
    throw new InvalidArchiveOptionError('mode', options.mode, "'ALL' or 'LATEST'");
  }
  const { tableName } = options;
  let table = await describe(dynamodb, tableName);
  let created = false;
  if (!table) {
    try {
      await dynamodb.send(new CreateTableCommand(createInput(options)));
      created = true;
    } catch (error) {
      if ((error as { name?: unknown }).name !== 'ResourceInUseException') throw error;
    }
    table = await describe(dynamodb, tableName);
  }
  const actual = table ? actualSchema(table) : '(none)';
  if (actual !== expectedSchema(options.mode)) {
    throw new ArchiveTableSchemaError(tableName, expectedSchema(options.mode), actual);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (table?.TableStatus !== 'ACTIVE') {
    if (Date.now() > deadline) throw new ArchiveTableNotActiveError(tableName, options.timeoutMs ?? 60_000);
    await sleep(200);
    table = await describe(dynamodb, tableName);
  }
  if (options.ttl !== false) await enableTtl(dynamodb, tableName);
  return { tableName, created };
}

async function enableTtl(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  const isOn = async (): Promise<boolean> => {
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
    return status === 'ENABLED' || status === 'ENABLING';
  };
  if (await isOn()) return;
  try {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: 'expireAfter', Enabled: true },
      }),
    );
  } catch (error) {
    // Another caller enabled it in between ("TimeToLive is already enabled").
    if (!(await isOn())) throw error;
  }
}
