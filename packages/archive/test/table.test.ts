import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { uniqueName } from '@kinesis-archive/local';
import { localAws } from '@kinesis-archive/local/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveTableSchemaError, archiveTableName, createArchiveTable } from '../src/index.js';

const { clients } = localAws();
const dynamodb = clients.dynamodb;
afterAll(() => clients.destroy());

describe('createArchiveTable', () => {
  it('names tables <stream>-archive-<MODE>', () => {
    expect(archiveTableName('orders', 'ALL')).toBe('orders-archive-ALL');
    expect(archiveTableName('orders', 'LATEST')).toBe('orders-archive-LATEST');
  });

  it('creates an on-demand ALL table with TTL on expireAfter, idempotently', async () => {
    const tableName = uniqueName('t-all');
    expect(await createArchiveTable(dynamodb, { tableName, mode: 'ALL' })).toEqual({
      tableName,
      created: true,
    });
    expect(await createArchiveTable(dynamodb, { tableName, mode: 'ALL' })).toEqual({
      tableName,
      created: false,
    });
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'partitionKey', KeyType: 'HASH' },
      { AttributeName: 'sequenceKey', KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: 'expireAfter',
      TimeToLiveStatus: 'ENABLED',
    });
  });

  it('creates a provisioned LATEST table without TTL when asked', async () => {
    const tableName = uniqueName('t-latest');
    await createArchiveTable(dynamodb, {
      tableName,
      mode: 'LATEST',
      ttl: false,
      billing: { readCapacityUnits: 5, writeCapacityUnits: 7 },
    });
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'partitionKey', KeyType: 'HASH' }]);
    expect(Table?.ProvisionedThroughput?.WriteCapacityUnits).toBe(7);
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
  });

  it('refuses a table that exists with another key schema', async () => {
    const tableName = uniqueName('t-mismatch');
    await createArchiveTable(dynamodb, { tableName, mode: 'LATEST' });
    const error = await createArchiveTable(dynamodb, { tableName, mode: 'ALL' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveTableSchemaError);
    expect((error as ArchiveTableSchemaError).code).toBe('TABLE_SCHEMA_MISMATCH');
  });

  it('creates the same table from concurrent callers', async () => {
    const tableName = uniqueName('t-race');
    const results = await Promise.all(
      [1, 2, 3].map(() => createArchiveTable(dynamodb, { tableName, mode: 'ALL' })),
    );
    expect(results.filter((r) => r.created).length).toBeGreaterThanOrEqual(1);
    expect(results.every((r) => r.tableName === tableName)).toBe(true);
  });
});
