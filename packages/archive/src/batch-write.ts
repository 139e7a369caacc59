import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import {
  Backoff,
  type BackoffOptions,
  forEachLimit,
  type KinesisArchiveError,
  retry,
} from '@kinesis-archive/core';
import { ArchiveWriteError } from './errors.js';
import type { Item } from './item-codec.js';
import { toWriteError } from './write-errors.js';

/** Most requests in one BatchWriteItem call. */
export const BATCH_WRITE_SIZE = 25;

/** One put of a batch, and who it belongs to (a record's position in the writer's list). */
export interface BatchEntry {
  item: Item;
  owner: number;
}

function keyOf(item: Item): string {
  return `${item.partitionKey?.S ?? ''}\u0001${item.sequenceKey?.S ?? ''}`;
}

/**
 * Writes `entries` (unique keys) with BatchWriteItem in groups of 25, at most `concurrency` groups at a time,
 * retrying throttled calls and `UnprocessedItems` with jittered exponential backoff. Returns the owners whose
 * items could not be written, with the reason; everything else was written.
 */
export async function batchPut(
  dynamodb: DynamoDBClient,
  tableName: string,
  entries: readonly BatchEntry[],
  options: { concurrency: number; backoff: BackoffOptions },
): Promise<Map<number, KinesisArchiveError>> {
  const failures = new Map<number, KinesisArchiveError>();
  const groups: BatchEntry[][] = [];
  for (let i = 0; i < entries.length; i += BATCH_WRITE_SIZE)
    groups.push(entries.slice(i, i + BATCH_WRITE_SIZE));
  await forEachLimit(groups, options.concurrency, async (group) => {
    const backoff = new Backoff(options.backoff);
    let pending = group;
    while (pending.length > 0) {
      const requests: WriteRequest[] = pending.map((e) => ({ PutRequest: { Item: e.item } }));
      let unprocessed: WriteRequest[];
      try {
        const out = await retry(
          () => dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } })),
          options.backoff,
        );
        // One table per request: every entry is ours, whatever name it is keyed by (a table given by ARN may
        // come back under its name, or the other way round).
        unprocessed = Object.values(out.UnprocessedItems ?? {}).flat();
      } catch (error) {
        const typed = toWriteError(error, tableName);
        for (const e of pending) if (!failures.has(e.owner)) failures.set(e.owner, typed);
        return;
      }
      if (unprocessed.length === 0) return;
      const left = new Set(unprocessed.map((r) => keyOf(r.PutRequest?.Item ?? {})));
      pending = pending.filter((e) => left.has(keyOf(e.item)));
      if (!(await backoff.wait())) {
        const error = new ArchiveWriteError(
          `${pending.length} item(s) still unprocessed by ${tableName} after ${backoff.retries} retries`,
          { details: { tableName, retries: backoff.retries } },
        );
        for (const e of pending) if (!failures.has(e.owner)) failures.set(e.owner, error);
        return;
      }
    }
  });
  return failures;
}
