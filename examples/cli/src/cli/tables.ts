import { DescribeTableCommand, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import type { ArchiveMode } from '@kinesis-archive/archive';
import { NotFoundError } from './errors.js';

/** DescribeTable, with a clear error when the table does not exist. */
export async function describeTable(dynamodb: DynamoDBClient, tableName: string): Promise<TableDescription> {
  try {
    const out = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return out.Table ?? {};
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException')
      throw new NotFoundError('table', tableName);
    throw error;
  }
}

/** The archive mode of a table: `ALL` when it has a sort key, else `LATEST` (unless `--mode` says). */
export async function archiveModeOf(
  dynamodb: DynamoDBClient,
  tableName: string,
  mode: ArchiveMode | undefined,
): Promise<{ mode: ArchiveMode; table: TableDescription }> {
  const table = await describeTable(dynamodb, tableName);
  const inferred: ArchiveMode = (table.KeySchema?.length ?? 1) > 1 ? 'ALL' : 'LATEST';
  return { mode: mode ?? inferred, table };
}
