import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/**
 * Creates `targetTable` with the key schema of `sourceTable` (on-demand billing) unless it exists. Returns whether
 * it created it.
 */
export async function ensureTargetTable(
  dynamodb: DynamoDBClient,
  sourceTable: string,
  targetTable: string,
): Promise<boolean> {
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: sourceTable }));
  const keySchema = Table?.KeySchema ?? [];
  const keyNames = new Set(keySchema.map((k) => k.AttributeName));
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: targetTable,
        KeySchema: keySchema,
        AttributeDefinitions: (Table?.AttributeDefinitions ?? []).filter((a) =>
          keyNames.has(a.AttributeName),
        ),
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceInUseException') return false;
    throw error;
  }
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName: targetTable });
  return true;
}
