// Helpers for tests against DynamoDB Local: a fresh table with a stream, and random writes.
import {
  CreateTableCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { seededRandom, uniqueName } from '@kinesis-archive/local';

export async function createStreamTable(
  dynamodb: DynamoDBClient,
  options: { ttlAttribute?: string; view?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'KEYS_ONLY' } = {},
): Promise<{ tableName: string; streamArn: string }> {
  const tableName = uniqueName('ddbs');
  const out = await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: options.view ?? 'NEW_AND_OLD_IMAGES' },
    }),
  );
  if (options.ttlAttribute) {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: options.ttlAttribute, Enabled: true },
      }),
    );
  }
  return { tableName, streamArn: out.TableDescription!.LatestStreamArn! };
}

/** Random puts, updates and deletes over `keys` items, a few at a time (different items in parallel). */
export async function randomWrites(
  dynamodb: DynamoDBClient,
  tableName: string,
  count: number,
  options: { keys?: number; seed?: number; concurrency?: number } = {},
): Promise<void> {
  const random = seededRandom(options.seed ?? 1);
  const keys = options.keys ?? 150;
  const ops = Array.from({ length: count }, (_, i) => ({
    i,
    key: `item-${Math.floor(random() * keys)}`,
    r: random(),
  }));
  // Group by key so each item's writes stay in order; run groups concurrently.
  const byKey = new Map<string, typeof ops>();
  for (const op of ops) byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  const groups = [...byKey.values()];
  const worker = async () => {
    for (let group = groups.shift(); group; group = groups.shift()) {
      for (const op of group) {
        const Key = { id: { S: op.key } };
        if (op.r < 0.45) {
          await dynamodb.send(
            new PutItemCommand({
              TableName: tableName,
              Item: {
                ...Key,
                v: { N: String(op.i) },
                text: { S: `put ${op.i}` },
                tags: { SS: ['a', `t${op.i % 7}`] },
              },
            }),
          );
        } else if (op.r < 0.8) {
          await dynamodb.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key,
              UpdateExpression: 'SET v = :v, updated = :u ADD n :one',
              ExpressionAttributeValues: {
                ':v': { N: String(op.i) },
                ':u': { BOOL: true },
                ':one': { N: '1' },
              },
            }),
          );
        } else {
          await dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key }));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
}

/** Every item of a table, keyed by `id`. */
export async function scanTable(dynamodb: DynamoDBClient, tableName: string): Promise<Map<string, unknown>> {
  const items = new Map<string, unknown>();
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({
        TableName: tableName,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw);
      items.set(String(item.id), item);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
