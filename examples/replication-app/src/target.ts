import { DeleteItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { retry } from '@kinesis-archive/core';
import type { Image } from '@kinesis-archive/dynamodb-stream';

/**
 * Decode options for items and images on their way to the target table: numbers are kept as their exact decimal
 * strings (`NumberValue`), so a number beyond 2^53 is copied without loss.
 */
export const EXACT_UNMARSHALL = { wrapNumbers: true } as const;

/** Writes an item (as decoded with {@link EXACT_UNMARSHALL}) to the target table, retrying transient errors. */
export async function putItem(dynamodb: DynamoDBClient, tableName: string, item: Image): Promise<void> {
  await retry(() => dynamodb.send(new PutItemCommand({ TableName: tableName, Item: marshall(item) })));
}

/** Deletes an item from the target table by its key attributes, retrying transient errors. */
export async function deleteItem(dynamodb: DynamoDBClient, tableName: string, keys: Image): Promise<void> {
  await retry(() => dynamodb.send(new DeleteItemCommand({ TableName: tableName, Key: marshall(keys) })));
}
