import { compareSequenceNumbers, isSequenceNumber } from '@kinesis-archive/core';

/** How the runner reads a handler's result, following Lambda's ReportBatchItemFailures rules. */
export type ResponseVerdict =
  | { kind: 'success' }
  | { kind: 'partial'; retryFrom: string }
  | { kind: 'malformed'; reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Interprets a handler's return value for a batch whose sequence numbers are `batchSequenceNumbers`.
 *
 * - `undefined`, `null`, `{}`, a missing/null/empty `batchItemFailures`: the whole batch succeeded.
 * - Failures with valid identifiers: the batch is checkpointed before the lowest reported sequence number, and the
 *   next invocation starts there.
 * - An identifier that is empty, not a string, or not a sequence number of this batch: the whole batch failed.
 */
export function interpretBatchResponse(
  response: unknown,
  batchSequenceNumbers: readonly string[],
): ResponseVerdict {
  if (response === undefined || response === null) return { kind: 'success' };
  if (!isRecord(response)) return { kind: 'success' };
  const failures = response.batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'malformed', reason: 'batchItemFailures is not an array' };
  if (failures.length === 0) return { kind: 'success' };
  const inBatch = new Set(batchSequenceNumbers);
  let lowest: string | undefined;
  for (const failure of failures) {
    const id = isRecord(failure) ? failure.itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') {
      return {
        kind: 'malformed',
        reason: `itemIdentifier ${JSON.stringify(id ?? null)} is empty or missing`,
      };
    }
    if (!isSequenceNumber(id) || !inBatch.has(id)) {
      return {
        kind: 'malformed',
        reason: `itemIdentifier ${JSON.stringify(id)} is not a sequence number of this batch`,
      };
    }
    if (lowest === undefined || compareSequenceNumbers(id, lowest) < 0) lowest = id;
  }
  return { kind: 'partial', retryFrom: lowest as string };
}
