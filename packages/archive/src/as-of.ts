import type { Item } from './item-codec.js';

/** When an archived item's record arrived: its `approximateArrivalTimestamp`, epoch milliseconds. */
export function arrivalOf(item: Item): number {
  return Number(item.approximateArrivalTimestamp?.N ?? 0);
}

/** Orders two versions of a key: by arrival time, then by position (sequence number, sub-sequence number). */
export function compareVersions(a: Item, b: Item): number {
  const d = arrivalOf(a) - arrivalOf(b);
  if (d !== 0) return d;
  const x = a.sequenceKey?.S ?? '';
  const y = b.sequenceKey?.S ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Whether a key's newest version deletes it: a tombstone marker, or (with `tombstones`) a record with no data. */
export function isDeletion(item: Item, tombstones: boolean): boolean {
  if (item.tombstone?.BOOL) return true;
  return tombstones && item.recordData === undefined && item.chunkCount === undefined;
}

/** Orders two versions of a key by position only (sequence number, sub-sequence number): what LATEST keeps. */
export function comparePositions(a: Item, b: Item): number {
  const x = a.sequenceKey?.S ?? '';
  const y = b.sequenceKey?.S ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * From items in scan or query order, where each key's items come together (DynamoDB returns a partition key's
 * item collection contiguously, and a parallel-scan segment holds whole collections), yields each key once, when
 * its last item has been read, with its newest version: the newest that arrived at or before `time` (by arrival,
 * then position), or without a time the one of highest position (what a LATEST archive keeps). `best` is
 * undefined when no version qualifies. Holds one key at a time.
 */
export async function* newestPerKey(
  items: AsyncIterable<Item>,
  time: number | undefined,
): AsyncGenerator<{ partitionKey: string; best: Item | undefined }> {
  const compare = time === undefined ? comparePositions : compareVersions;
  let key: string | undefined;
  let best: Item | undefined;
  for await (const item of items) {
    const pk = item.partitionKey?.S ?? '';
    if (pk !== key) {
      if (key !== undefined) yield { partitionKey: key, best };
      key = pk;
      best = undefined;
    }
    if (time !== undefined && arrivalOf(item) > time) continue;
    if (best === undefined || compare(item, best) > 0) best = item;
  }
  if (key !== undefined) yield { partitionKey: key, best };
}
