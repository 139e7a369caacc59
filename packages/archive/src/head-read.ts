import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { isTransientError, retry } from '@kinesis-archive/core';
import type { WriteContext } from './context.js';
import { headKey, type Item } from './item-codec.js';

/**
 * Some attributes of the head item stored for a record's key (a consistent read), to decide about chunks after a
 * write whose outcome is uncertain: `{ item }` (`item` undefined when there is none), or undefined when it could not
 * be read (callers then keep the chunks: leaving chunks is safe, deleting referenced ones is not).
 */
export async function readStoredHead(
  ctx: Pick<WriteContext, 'dynamodb' | 'tableName' | 'mode' | 'backoff'>,
  record: { partitionKey: string; sequenceKey: string },
  attributes: readonly string[],
): Promise<{ item: Item | undefined } | undefined> {
  try {
    const out = await retry(
      () =>
        ctx.dynamodb.send(
          new GetItemCommand({
            TableName: ctx.tableName,
            Key: headKey(ctx.mode, record.partitionKey, record.sequenceKey),
            ConsistentRead: true,
            ProjectionExpression: attributes.join(', '),
          }),
        ),
      { ...ctx.backoff, isRetryable: isTransientError },
    );
    return { item: out.Item };
  } catch {
    return undefined;
  }
}
