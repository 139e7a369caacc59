import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { BackoffOptions, KinesisArchiveError } from '@kinesis-archive/core';
import { retry } from '@kinesis-archive/core';
import { batchPut } from './batch-write.js';
import { readChunks } from './chunk-read.js';
import { deleteChunks, planChunks, putChunks } from './chunk-store.js';
import { chunkCount } from './chunking.js';
import { ArchiveWriteError, CorruptArchiveItemError } from './errors.js';
import { chunkInfoOf, dataAttributes, type Item } from './item-codec.js';
import {
  decodeQuarantineItem,
  QUARANTINE_KEY_PREFIX,
  QUARANTINE_PARTITION_KEY,
  type QuarantinedRecord,
  type QuarantinePayload,
  type QuarantinePlace,
  quarantineAttributes,
  quarantineId,
  quarantineKey,
} from './quarantine-codec.js';
import { toWriteError } from './write-errors.js';

/** Where permanent failures go, and for how long. */
export interface QuarantineOptions {
  /**
   * A table of its own for the quarantine, with the key schema of an ALL archive (`createArchiveTable` with
   * `mode: 'ALL'`). Default: the archive table itself, under reserved keys.
   */
  tableName?: string;
  /** Quarantine items expire this many seconds after they are written. Default: never (until re-driven). */
  ttlSeconds?: number;
}

/** What the quarantine calls need. */
export interface QuarantineContext {
  dynamodb: DynamoDBClient;
  place: QuarantinePlace;
  concurrency: number;
  backoff: BackoffOptions;
  /** Quarantine items expire this many seconds after they are written; undefined: never. */
  ttlSeconds?: number | undefined;
}

/** One record to quarantine, and why. */
export interface QuarantineEntry {
  payload: QuarantinePayload;
  error: KinesisArchiveError;
}

/**
 * Writes quarantine items (chunks first for large payloads, as for archived records). Returns the failures by
 * position in `entries`, as `WRITE_FAILED` errors whose cause is the DynamoDB error: retrying those is right.
 */
export async function writeQuarantine(
  ctx: QuarantineContext,
  entries: readonly QuarantineEntry[],
  nowMs: number,
): Promise<Map<number, KinesisArchiveError>> {
  const { place } = ctx;
  const expireAfter = ctx.ttlSeconds === undefined ? undefined : Math.floor(nowMs / 1000) + ctx.ttlSeconds;
  const owners = entries.map((e) => {
    const id = quarantineId(e.payload);
    const key = quarantineKey(place, id);
    const owner = { partitionKey: key.partitionKey, sequenceKey: id, data: e.payload.data };
    return { ...owner, info: planChunks(owner) };
  });
  const chunkCtx = { ...ctx, tableName: place.tableName, mode: place.mode, expireAfter };
  const chunked = owners.map((o, i) => ({ o, i })).filter((c) => c.o.info !== undefined);
  const failures = new Map<number, KinesisArchiveError>();
  if (chunked.length > 0) {
    const chunkFailures = await putChunks(
      chunkCtx,
      chunked.map((c) => c.o),
    );
    for (const [j, error] of chunkFailures) failures.set(chunked[j]!.i, error);
  }
  const heads = entries.flatMap((entry, i) => {
    if (failures.has(i)) return [];
    const owner = owners[i]!;
    const item: Item = {
      partitionKey: { S: owner.partitionKey },
      sequenceKey: { S: owner.sequenceKey },
      ...quarantineAttributes(entry.payload, entry.error, nowMs, expireAfter),
      ...dataAttributes(owner.data, owner.info),
    };
    return [{ owner: i, item }];
  });
  const headFailures = await batchPut(ctx.dynamodb, place.tableName, heads, ctx);
  for (const [i, error] of headFailures) failures.set(i, error);
  const wrapped = new Map<number, KinesisArchiveError>();
  for (const [i, error] of failures) {
    wrapped.set(
      i,
      new ArchiveWriteError(
        `could not quarantine a record (${entries[i]!.error.code}) in ${place.tableName}: ${error.message}`,
        { cause: error, details: { tableName: place.tableName, quarantineReason: entries[i]!.error.code } },
      ),
    );
  }
  return wrapped;
}

/** Reads the quarantine: a Query in a table with a sort key, a Scan (filtered on the reserved prefix) otherwise. */
export async function* readQuarantine(
  ctx: Omit<QuarantineContext, 'concurrency'> & { consistentRead: boolean },
  limit: number,
): AsyncGenerator<QuarantinedRecord> {
  const { place } = ctx;
  let count = 0;
  let key: Record<string, AttributeValue> | undefined;
  do {
    const out = await retry(
      () =>
        ctx.dynamodb.send(
          place.mode === 'ALL'
            ? new QueryCommand({
                TableName: place.tableName,
                KeyConditionExpression: 'partitionKey = :q',
                FilterExpression: 'attribute_exists(quarantinedAt)',
                ExpressionAttributeValues: { ':q': { S: QUARANTINE_PARTITION_KEY } },
                ConsistentRead: ctx.consistentRead,
                ExclusiveStartKey: key,
              })
            : new ScanCommand({
                TableName: place.tableName,
                FilterExpression: 'begins_with(partitionKey, :q) AND attribute_exists(quarantinedAt)',
                ExpressionAttributeValues: { ':q': { S: QUARANTINE_KEY_PREFIX } },
                ConsistentRead: ctx.consistentRead,
                ExclusiveStartKey: key,
              }),
        ),
      ctx.backoff,
    );
    for (const item of (out.Items ?? []) as Item[]) {
      const record = await resolveQuarantineItem(ctx, item);
      if (!record) continue;
      yield record;
      if (++count >= limit) return;
    }
    key = out.LastEvaluatedKey;
  } while (key !== undefined);
}

async function resolveQuarantineItem(
  ctx: Omit<QuarantineContext, 'concurrency'>,
  item: Item,
): Promise<QuarantinedRecord | undefined> {
  const info = chunkInfoOf(item);
  let data: Uint8Array = item.recordData?.B ?? new Uint8Array(0);
  if (info) {
    const head = { partitionKey: item.partitionKey?.S ?? '', sequenceKey: item.sequenceKey?.S ?? '' };
    const read = await readChunks(ctx.dynamodb, ctx.place.tableName, ctx.place.mode, head, info, ctx.backoff);
    if (!read) throw new CorruptArchiveItemError('chunks of a quarantined record are missing', head);
    data = read;
  }
  return decodeQuarantineItem(item, data);
}

/** Deletes a quarantine item and its chunks (after it was re-driven). */
export async function deleteQuarantined(
  ctx: Omit<QuarantineContext, 'concurrency'>,
  record: QuarantinedRecord,
): Promise<void> {
  const { place } = ctx;
  const key = quarantineKey(place, record.id);
  const Key: Record<string, AttributeValue> =
    place.mode === 'ALL'
      ? { partitionKey: { S: key.partitionKey }, sequenceKey: { S: key.sequenceKey } }
      : { partitionKey: { S: key.partitionKey } };
  try {
    await retry(
      () => ctx.dynamodb.send(new DeleteItemCommand({ TableName: place.tableName, Key })),
      ctx.backoff,
    );
  } catch (error) {
    throw toWriteError(error, place.tableName);
  }
  const count = chunkCount(record.data.byteLength);
  if (count > 0) {
    await deleteChunks(
      { ...ctx, tableName: place.tableName, mode: place.mode },
      key.partitionKey,
      record.id,
      count,
    );
  }
}
