import { DescribeTableCommand, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import type { ArchiveMode } from '@kinesis-archive/archive';
import { NotFoundError, UsageError } from './errors.js';

/** DescribeTable, with a clear error (and `hint`) when the table does not exist. */
export async function describeTable(
  dynamodb: DynamoDBClient,
  tableName: string,
  hint?: string,
): Promise<TableDescription> {
  try {
    const out = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return out.Table ?? {};
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException')
      throw new NotFoundError('table', tableName, hint);
    throw error;
  }
}

/**
 * The archive mode of a table, read from its key schema: `ALL` when it has a sort key, else `LATEST`.
 *
 * @throws {@link UsageError} when `mode` (from `--mode`) says otherwise.
 */
export async function archiveModeOf(
  dynamodb: DynamoDBClient,
  tableName: string,
  mode: ArchiveMode | undefined,
): Promise<{ mode: ArchiveMode; table: TableDescription }> {
  const table = await describeTable(dynamodb, tableName);
  const inferred: ArchiveMode = (table.KeySchema?.length ?? 1) > 1 ? 'ALL' : 'LATEST';
  if (mode !== undefined && mode !== inferred) {
    throw new UsageError(
      `--mode ${mode}: table ${JSON.stringify(tableName)} is a${inferred === 'ALL' ? 'n ALL' : ' LATEST'} archive (its key schema says so); drop --mode or pass --mode ${inferred}`,
    );
  }
  return { mode: inferred, table };
}
