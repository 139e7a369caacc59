import type { ArchivedRecord } from '@kinesis-archive/archive';
import { comparePositions } from '@kinesis-archive/core';
import type { StreamContent } from './read-stream.js';

/** One verification and whether it held. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Groups archived records by key, each key's records in (sequence, subSequence) order. */
export function groupByKey(records: Iterable<ArchivedRecord>): Map<string, ArchivedRecord[]> {
  const byKey = new Map<string, ArchivedRecord[]>();
  for (const r of records) {
    const list = byKey.get(r.partitionKey) ?? [];
    list.push(r);
    byKey.set(r.partitionKey, list);
  }
  for (const list of byKey.values()) list.sort(comparePositions);
  return byKey;
}

/** Compares a stream's content with the archive it was replayed from: counts, bytes and each key's order. */
export function compareWithArchive(
  label: string,
  stream: StreamContent,
  archive: Map<string, ArchivedRecord[]>,
): Check[] {
  let archived = 0;
  let archivedBytes = 0;
  let keysInOrder = 0;
  const mismatches: string[] = [];
  for (const [key, records] of archive) {
    archived += records.length;
    for (const r of records) archivedBytes += r.data.byteLength;
    const got = stream.byKey.get(key) ?? [];
    const same =
      got.length === records.length &&
      got.every((g, i) => Buffer.from(g.data).equals(Buffer.from(records[i]?.data ?? [])));
    if (same) keysInOrder++;
    else if (mismatches.length < 3) mismatches.push(key);
  }
  const extraKeys = [...stream.byKey.keys()].filter((k) => !archive.has(k)).length;
  return [
    {
      name: `${label}: record count`,
      ok: stream.userRecords === archived,
      detail: `${stream.userRecords} read back / ${archived} archived (${stream.kinesisRecords} Kinesis records)`,
    },
    {
      name: `${label}: bytes`,
      ok: stream.bytes === archivedBytes,
      detail: `${stream.bytes} / ${archivedBytes} bytes`,
    },
    {
      name: `${label}: per-key order and content`,
      ok: keysInOrder === archive.size && extraKeys === 0,
      detail:
        `${keysInOrder}/${archive.size} keys identical and in order` +
        (extraKeys ? `, ${extraKeys} unexpected keys` : '') +
        (mismatches.length ? ` (differ: ${mismatches.join(', ')})` : ''),
    },
  ];
}
