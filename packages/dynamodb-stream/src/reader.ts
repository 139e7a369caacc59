import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { AbortError, type BackoffOptions, isTransientError, retry } from '@kinesis-archive/core';
import { ShardReadError } from './errors.js';
import type { ShardProgress } from './shard-state.js';
import type { StreamsClient } from './shard-tracker.js';

/** In-memory reading position of a shard. Never persisted: iterators expire. */
export interface ShardCursor {
  /** The iterator for the next GetRecords. */
  iterator?: string;
  /** Open at LATEST (first start with `startingPosition: 'LATEST'`, before any record was processed). */
  useLatest?: boolean;
  /** The sequence number found trimmed: open at TRIM_HORIZON while the progress still points there. */
  trimmedAt?: string | null;
  /**
   * The first record read but not settled (a listener failed, or an iterator batch was not acknowledged): the next
   * iterator opens AT_SEQUENCE_NUMBER of it. This keeps a `LATEST` start exact even before any record settled.
   */
  resumeAt?: string;
}

/** What a consumer is told when records could not be read. */
export interface DataLossInfo {
  /** The shard concerned. */
  shardId: string;
  /**
   * `trimmed`: records after the last processed one are past the 24 h retention; `shard-vanished`: the shard is gone;
   * `stream-replaced`: the saved state belongs to an earlier stream of the table and this shard was not drained.
   */
  reason: 'trimmed' | 'shard-vanished' | 'stream-replaced';
  /** The last sequence number processed in the shard, if any (records after it may be lost). */
  lastSequenceNumber?: string;
  /** The service error that revealed the loss. */
  error?: unknown;
}

/** The result of reading one batch of a shard. */
export type ReadOutcome =
  | { kind: 'records'; records: _Record[]; iteratorUsed: string; next: string | undefined }
  | { kind: 'vanished'; error: unknown }
  | { kind: 'aborted' }
  | { kind: 'failed'; error: ShardReadError };

/** What {@link readShardBatch} needs. */
export interface ReadContext {
  client: StreamsClient;
  streamArn: string;
  limit: number | undefined;
  retry: BackoffOptions;
  onDataLoss(info: DataLossInfo): Promise<void>;
  /** Ends a read at once (a hung call is abandoned, not awaited). */
  signal?: AbortSignal | undefined;
}

/**
 * Calls `send` with the abort signal, and stops waiting for it when the signal aborts even if the client does not
 * honour the signal: a hung call must not hold up a stop.
 */
export function abortable<T>(
  signal: AbortSignal | undefined,
  send: (options: { abortSignal?: AbortSignal }) => Promise<T>,
): Promise<T> {
  const sent = send(signal ? { abortSignal: signal } : {});
  if (!signal) return sent;
  if (signal.aborted) {
    sent.catch(() => undefined);
    return Promise.reject(new AbortError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      sent.catch(() => undefined);
      reject(new AbortError(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sent.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function errorName(error: unknown): string | undefined {
  return error && typeof error === 'object' ? (error as { name?: string }).name : undefined;
}

/** The most reopenings of one shard in one read (expired iterators, trimmed positions). */
const MAX_REOPENS = 3;

/** GetShardIterator with the read context's retries and abort signal. */
async function getShardIterator(
  ctx: ReadContext,
  shardId: string,
  type: ShardIteratorType,
  at?: string,
): Promise<string | undefined> {
  const out = await retry(
    () =>
      abortable(ctx.signal, (options) =>
        ctx.client.send(
          new GetShardIteratorCommand({
            StreamArn: ctx.streamArn,
            ShardId: shardId,
            ShardIteratorType: type,
            ...(at !== undefined ? { SequenceNumber: at } : {}),
          }),
          options,
        ),
      ),
    { ...ctx.retry, signal: ctx.signal, isRetryable: isTransientError },
  );
  return out.ShardIterator;
}

/** True unless the service says the shard does not exist (ResourceNotFoundException). Other errors throw. */
export async function shardExists(ctx: ReadContext, shardId: string): Promise<boolean> {
  try {
    await getShardIterator(ctx, shardId, 'TRIM_HORIZON');
    return true;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return false;
    throw error;
  }
}

/** Opens a shard iterator from the shard's progress: after its last record, at LATEST or at TRIM_HORIZON. */
export async function openIterator(
  ctx: ReadContext,
  shardId: string,
  progress: ShardProgress,
  cursor: ShardCursor,
): Promise<string | undefined> {
  const seq = progress.sequenceNumber;
  let type: ShardIteratorType = 'TRIM_HORIZON';
  let at: string | undefined;
  if (cursor.resumeAt !== undefined) {
    type = 'AT_SEQUENCE_NUMBER';
    at = cursor.resumeAt;
  } else if (seq !== undefined && cursor.trimmedAt !== seq) {
    type = 'AFTER_SEQUENCE_NUMBER';
    at = seq;
  } else if (seq === undefined && cursor.useLatest) type = 'LATEST';
  return await getShardIterator(ctx, shardId, type, at);
}

/**
 * Reads one batch from a shard, opening (or re-opening) its iterator as needed: an expired iterator is re-opened
 * after the last processed record (at TRIM_HORIZON when none was processed yet, even for a LATEST bookmark); a trimmed position is reported through `onDataLoss` and reading goes on from the
 * oldest record still there; throttling is retried with backoff. Never throws: failures are returned.
 */
export async function readShardBatch(
  ctx: ReadContext,
  shardId: string,
  progress: ShardProgress,
  cursor: ShardCursor,
): Promise<ReadOutcome> {
  let operation = 'GetShardIterator';
  let lastError: unknown;
  for (let reopen = 0; reopen <= MAX_REOPENS; reopen++) {
    try {
      operation = 'GetShardIterator';
      if (!cursor.iterator) {
        const opened = await openIterator(ctx, shardId, progress, cursor);
        if (!opened) return { kind: 'records', records: [], iteratorUsed: '', next: undefined };
        cursor.iterator = opened;
      }
      const used: string = cursor.iterator;
      operation = 'GetRecords';
      const out = await retry(
        () =>
          abortable(ctx.signal, (options) =>
            ctx.client.send(
              new GetRecordsCommand({ ShardIterator: used, ...(ctx.limit ? { Limit: ctx.limit } : {}) }),
              options,
            ),
          ),
        { ...ctx.retry, signal: ctx.signal, isRetryable: isTransientError },
      );
      return { kind: 'records', records: out.Records ?? [], iteratorUsed: used, next: out.NextShardIterator };
    } catch (error) {
      if (error instanceof AbortError) return { kind: 'aborted' };
      lastError = error;
      const name = errorName(error);
      if (name === 'ExpiredIteratorException') {
        cursor.iterator = undefined;
        // A LATEST bookmark that expired unread cannot be re-opened where it was: re-opening at LATEST would skip
        // the changes made since. Fall back to the oldest record (may repeat, never loses).
        if (progress.sequenceNumber === undefined) cursor.useLatest = false;
        continue;
      }
      if (name === 'TrimmedDataAccessException') {
        cursor.iterator = undefined;
        cursor.resumeAt = undefined;
        cursor.trimmedAt = progress.sequenceNumber ?? null;
        await ctx.onDataLoss({
          shardId,
          reason: 'trimmed',
          ...(progress.sequenceNumber !== undefined ? { lastSequenceNumber: progress.sequenceNumber } : {}),
          error,
        });
        continue;
      }
      if (name === 'ResourceNotFoundException') return { kind: 'vanished', error };
      // The iterator is dropped: one opened at LATEST with no record processed yet cannot be re-opened where it was
      // (LATEST again would skip the changes made since it was opened). Fall back to the oldest record.
      if (cursor.iterator !== undefined && progress.sequenceNumber === undefined) cursor.useLatest = false;
      cursor.iterator = undefined;
      return { kind: 'failed', error: new ShardReadError(shardId, operation, error) };
    }
  }
  return { kind: 'failed', error: new ShardReadError(shardId, operation, lastError) };
}
