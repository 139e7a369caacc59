import { batchPut } from './batch-write.js';
import { cleanUpAfterFailedHead, planChunks, putChunks } from './chunk-store.js';
import type { ModeResult, WriteContext } from './context.js';
import { type ChunkInfo, encodeHead } from './item-codec.js';
import type { NormalizedRecord } from './normalize.js';
import { isTombstoneRecord } from './tombstones.js';

/**
 * ALL mode: every record becomes an item keyed by (partitionKey, sequenceKey), written with BatchWriteItem in
 * groups of 25. Writing the same record again rewrites the same item, so re-delivery is idempotent. A record
 * delivered twice in one call is written once and counted once in `skippedStale`.
 */
export async function writeAll(ctx: WriteContext, input: readonly NormalizedRecord[]): Promise<ModeResult> {
  const result: ModeResult = { written: 0, tombstoned: 0, skippedStale: 0, compacted: 0, failed: [] };
  const seen = new Set<string>();
  const records: NormalizedRecord[] = [];
  for (const record of input) {
    const key = `${record.partitionKey}\u0001${record.sequenceKey}`;
    if (seen.has(key)) {
      result.skippedStale++;
      continue;
    }
    seen.add(key);
    records.push(record);
  }

  // a chunked record's reference (its SHA-256 over the data), computed once
  const plans = new Map<NormalizedRecord, ChunkInfo>();
  for (const record of records) {
    const plan = planChunks(record);
    if (plan) plans.set(record, plan);
  }
  const chunked = [...plans.keys()];
  const chunkFailures = chunked.length > 0 ? await putChunks(ctx, chunked) : new Map();
  const failedChunked = new Set<NormalizedRecord>();
  for (const [i, error] of chunkFailures) {
    failedChunked.add(chunked[i]!);
    result.failed.push({ record: chunked[i]!, error });
  }

  const heads = records.filter((r) => !failedChunked.has(r));
  const entries = heads.map((record, owner) => ({
    owner,
    item: encodeHead(record, {
      mode: 'ALL',
      nowMs: ctx.nowMs,
      expireAfter: ctx.expireAfter,
      tombstone: isTombstoneRecord(record, ctx),
      chunks: plans.get(record),
    }),
  }));
  const failures = await batchPut(ctx.dynamodb, ctx.tableName, entries, {
    concurrency: ctx.concurrency,
    backoff: ctx.backoff,
  });
  for (const [i, error] of failures) {
    const record = heads[i]!;
    result.failed.push({ record, error });
    // its chunks were written: unless the record was archived before, nothing refers to them now
    const chunks = plans.get(record);
    if (chunks) await cleanUpAfterFailedHead(ctx, record, chunks.count);
  }
  for (const [i, record] of heads.entries()) {
    if (failures.has(i)) continue;
    if (isTombstoneRecord(record, ctx)) result.tombstoned++;
    else result.written++;
  }
  return result;
}
