import { type AttributeValue, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { forEachLimit, isTransientError, retry } from '@kinesis-archive/core';
import { cleanUpAfterFailedHead, deleteChunks, planChunks, putChunks } from './chunk-store.js';
import type { ModeResult, WriteContext } from './context.js';
import { readStoredHead } from './head-read.js';
import { chunkInfoOf, encodeHead, type Item } from './item-codec.js';
import type { NormalizedRecord } from './normalize.js';
import { isTombstoneRecord } from './tombstones.js';
import { toWriteError } from './write-errors.js';

/**
 * The replace condition: the key is new, or the stored record is older. `sequenceKey` is fixed-width, so string
 * order is position order for sequence numbers of any length. An item without `sequenceKey` was not written by
 * this package (the archiver it replaces used the same table name and key, without `sequenceKey`): it counts as
 * older, so a table taken over from that archiver keeps being updated instead of freezing every existing key.
 */
export const LATEST_CONDITION =
  'attribute_not_exists(partitionKey) OR attribute_not_exists(sequenceKey) OR sequenceKey < :newKey';

/** Keeps the newest record of each key; the others are counted as compacted (or stale when exact duplicates). */
export function compactBatch(records: readonly NormalizedRecord[]): {
  winners: NormalizedRecord[];
  compacted: number;
  duplicates: number;
} {
  const best = new Map<string, NormalizedRecord>();
  let compacted = 0;
  let duplicates = 0;
  for (const record of records) {
    const current = best.get(record.partitionKey);
    if (current === undefined) {
      best.set(record.partitionKey, record);
    } else if (current.sequenceKey === record.sequenceKey) {
      duplicates++;
    } else {
      compacted++;
      if (record.sequenceKey > current.sequenceKey) best.set(record.partitionKey, record);
    }
  }
  return { winners: [...best.values()], compacted, duplicates };
}

/**
 * LATEST mode: compacts the batch to one record per key, then writes each with a conditional PutItem that only
 * replaces an older record. A late or duplicate record fails the condition and is counted in `skippedStale`.
 */
export async function writeLatest(
  ctx: WriteContext,
  records: readonly NormalizedRecord[],
): Promise<ModeResult> {
  const { winners, compacted, duplicates } = compactBatch(records);
  const result: ModeResult = { written: 0, tombstoned: 0, skippedStale: duplicates, compacted, failed: [] };
  await forEachLimit(winners, ctx.concurrency, async (record) => {
    const tombstone = isTombstoneRecord(record, ctx);
    const chunks = tombstone ? undefined : planChunks(record);
    if (chunks) {
      const failure = (await putChunks(ctx, [record])).get(0);
      if (failure) {
        result.failed.push({ record, error: failure });
        return;
      }
    }
    const item = encodeHead(record, {
      mode: 'LATEST',
      nowMs: ctx.nowMs,
      expireAfter: tombstone ? ctx.tombstoneExpireAfter : ctx.expireAfter,
      tombstone,
      chunks,
    });
    // calls sent: a failed condition on a later one may follow a write whose answer was lost
    let calls = 0;
    const replace = replaceExpression(item);
    try {
      const out = await retry(
        () => {
          calls++;
          return ctx.dynamodb.send(
            new UpdateItemCommand({
              TableName: ctx.tableName,
              Key: { partitionKey: item.partitionKey! },
              UpdateExpression: replace.expression,
              ExpressionAttributeNames: replace.names,
              ConditionExpression: LATEST_CONDITION,
              ExpressionAttributeValues: { ...replace.values, ':newKey': { S: record.sequenceKey } },
              ReturnValues: 'ALL_OLD',
              // the stored head is needed only to decide about our chunks: do not read it back for the others
              ...(chunks ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
            }),
          );
        },
        { ...ctx.backoff, isRetryable: isTransientError },
      );
      if (tombstone) result.tombstoned++;
      else result.written++;
      const old = out.Attributes;
      const oldChunks = old ? chunkInfoOf(old) : undefined;
      if (old && oldChunks && old.sequenceKey?.S) {
        await deleteChunks(ctx, record.partitionKey, old.sequenceKey.S, oldChunks.count);
      }
    } catch (error) {
      if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') {
        result.skippedStale++;
        const sdkAttempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
        if (calls > 1 || sdkAttempts > 1) {
          // An earlier attempt may have replaced the head, its answer (with the replaced record's chunks) lost:
          // the head itself names what it replaced.
          await deleteReplacedChunks(ctx, record);
        }
        // Our chunks are unreferenced only when the stored head is another (newer) record. When it is this very
        // record (archived before: a Lambda retry, a replayed batch, or an attempt whose response was lost), the
        // stored head points at these same chunk items, so deleting them would lose the record.
        const stored = chunks ? await storedHead(ctx, record, error) : undefined;
        if (chunks && stored && stored.sequenceKey > record.sequenceKey) {
          await deleteChunks(ctx, record.partitionKey, record.sequenceKey, chunks.count);
        } else if (
          stored?.sequenceKey === record.sequenceKey &&
          expiresSooner(ctx.expireAfter, stored.expireAfter)
        ) {
          // We have just rewritten the stored head's chunks with our TTL, which ends before the head's (the TTL
          // was shortened or added since the head was written): give them the head's TTL back, else DynamoDB
          // would delete them first and leave the head unreadable.
          const failure = (await putChunks({ ...ctx, expireAfter: stored.expireAfter }, [record])).get(0);
          if (failure) {
            result.skippedStale--;
            result.failed.push({ record, error: failure });
          }
        }
        return;
      }
      result.failed.push({ record, error: toWriteError(error, ctx.tableName) });
      // its chunks were written: unless the head is stored after all (a lost answer), nothing refers to them
      if (chunks) await cleanUpAfterFailedHead(ctx, record, chunks.count);
    }
  });
  return result;
}

/** Optional attributes of a head item: a replace removes those the new record does not have. */
const OPTIONAL_HEAD_ATTRIBUTES = [
  'recordData',
  'chunkCount',
  'dataLength',
  'dataSha256',
  'tombstone',
  'explicitHashKey',
  'shardId',
  'expireAfter',
] as const;

/**
 * The UpdateItem that replaces a stored head with `item`, and records in it where the replaced record's chunks
 * are (`replacedSequenceKey`, `replacedChunkCount`: operands read the item as it was before the update). So a
 * replace whose answer (its `ALL_OLD`) is lost can still find the chunks it orphaned.
 */
export function replaceExpression(item: Item): {
  expression: string;
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
} {
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  const placeholder = new Map<string, string>();
  const nameOf = (attribute: string): string => {
    let p = placeholder.get(attribute);
    if (!p) {
      p = `#n${placeholder.size}`;
      placeholder.set(attribute, p);
      names[p] = attribute;
    }
    return p;
  };
  const sets: string[] = [];
  for (const [attribute, value] of Object.entries(item)) {
    if (attribute === 'partitionKey') continue;
    const v = `:v${sets.length}`;
    values[v] = value;
    sets.push(`${nameOf(attribute)} = ${v}`);
  }
  values[':none'] = { S: '' };
  values[':zero'] = { N: '0' };
  sets.push(`${nameOf('replacedSequenceKey')} = if_not_exists(${nameOf('sequenceKey')}, :none)`);
  sets.push(`${nameOf('replacedChunkCount')} = if_not_exists(${nameOf('chunkCount')}, :zero)`);
  const removes = OPTIONAL_HEAD_ATTRIBUTES.filter((a) => item[a] === undefined).map(nameOf);
  return {
    expression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
    names,
    values,
  };
}

/**
 * After a failed condition that may follow a lost answer: when the stored head is `record` itself, deletes the
 * chunks of the record it replaced (named in the head). Deleting chunks already deleted does nothing.
 */
async function deleteReplacedChunks(ctx: WriteContext, record: NormalizedRecord): Promise<void> {
  // unreadable: best effort, the chunks stay, invisible to readers
  const stored = (
    await readStoredHead(ctx, record, ['sequenceKey', 'replacedSequenceKey', 'replacedChunkCount'])
  )?.item;
  const replaced = stored?.replacedSequenceKey?.S;
  const count = Number(stored?.replacedChunkCount?.N ?? 0);
  if (
    stored?.sequenceKey?.S !== record.sequenceKey ||
    !replaced ||
    replaced === record.sequenceKey ||
    !(count > 0)
  ) {
    return;
  }
  await deleteChunks(ctx, record.partitionKey, replaced, count);
}

/** Whether an item with TTL `ours` expires before one with TTL `theirs` (epoch seconds; undefined = never). */
function expiresSooner(ours: number | undefined, theirs: number | undefined): boolean {
  return ours !== undefined && (theirs === undefined || ours < theirs);
}

/**
 * After a failed replace condition: the stored head's sequence key and TTL (to tell whether `record`'s chunks are
 * referenced by nothing, or are the stored head's own). Reads them from the error
 * (`ReturnValuesOnConditionCheckFailure`), else with a consistent GetItem. Undefined when it cannot tell: leaving
 * chunks behind is safe, deleting referenced ones is not.
 */
async function storedHead(
  ctx: WriteContext,
  record: NormalizedRecord,
  error: unknown,
): Promise<{ sequenceKey: string; expireAfter: number | undefined } | undefined> {
  let stored = (error as { Item?: Record<string, AttributeValue> }).Item;
  if (stored?.sequenceKey?.S === undefined) {
    stored = (await readStoredHead(ctx, record, ['sequenceKey', 'expireAfter']))?.item;
  }
  const sequenceKey = stored?.sequenceKey?.S;
  if (sequenceKey === undefined) return undefined;
  const expireAfter = stored?.expireAfter?.N === undefined ? undefined : Number(stored.expireAfter.N);
  return { sequenceKey, expireAfter };
}
