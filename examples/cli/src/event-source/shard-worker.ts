import { randomUUID } from 'node:crypto';
import {
  AbortError,
  backoffDelay,
  type GetRecordsRecord,
  type KinesisStreamEvent,
  sleep,
  toKinesisEventRecord,
} from '@kinesis-archive/core';
import { interpretBatchResponse, type ResponseVerdict } from './batch-response.js';
import { EventSourceRetriesExhaustedError } from './errors.js';
import type { ShardReader } from './shard-reader.js';
import type {
  BatchReport,
  EventSourceStats,
  KinesisHandler,
  LocalLambdaContext,
  SkippedBatch,
} from './types.js';

/** Everything a shard worker needs besides its reader. */
export interface WorkerSettings {
  handler: KinesisHandler;
  batchSize: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  pollIntervalMs: number;
  /** Stop after this long at the tip with nothing to do; `undefined` = never. */
  idleMs: number | undefined;
  onRetriesExhausted: 'throw' | 'skip';
  eventSourceARN: string;
  awsRegion: string;
  signal: AbortSignal;
  stats: EventSourceStats;
  onBatch?: ((report: BatchReport) => void | Promise<void>) | undefined;
  onSkip?: ((batch: SkippedBatch) => void | Promise<void>) | undefined;
}

function context(): LocalLambdaContext {
  return {
    awsRequestId: randomUUID(),
    functionName: 'local-event-source',
    getRemainingTimeInMillis: () => 900_000,
  };
}

async function invoke(settings: WorkerSettings, event: KinesisStreamEvent, sequenceNumbers: string[]) {
  try {
    const response = await settings.handler(event, context());
    return { verdict: interpretBatchResponse(response, sequenceNumbers), error: undefined };
  } catch (error) {
    return { verdict: { kind: 'malformed', reason: 'the handler threw' } as ResponseVerdict, error };
  }
}

/**
 * Feeds one shard to the handler, one batch at a time, with Lambda's event source mapping semantics: on
 * `batchItemFailures` the records before the lowest reported sequence number are checkpointed and the next
 * invocation starts at it; on a thrown error or a malformed response the whole batch is delivered again.
 * Returns when the shard is read to its end, when idle long enough (if asked), or when the signal aborts.
 */
export async function runShard(reader: ShardReader, settings: WorkerSettings): Promise<void> {
  const { stats, batchSize, signal } = settings;
  const shard = stats.shards[reader.shardId] ?? { records: 0, invocations: 0, finished: false };
  stats.shards[reader.shardId] = shard;
  const pending: GetRecordsRecord[] = [];
  let failedStart: string | undefined;
  let consecutiveFailures = 0;
  let idleSince: number | undefined;
  try {
    while (!signal.aborted) {
      if (pending.length < batchSize && !reader.ended) {
        const page = await reader.next();
        pending.push(...page.records);
        if (pending.length === 0) {
          if (reader.ended) break;
          if (settings.idleMs !== undefined && page.atTip) {
            idleSince ??= Date.now();
            if (Date.now() - idleSince >= settings.idleMs) break;
          }
          await sleep(settings.pollIntervalMs, signal);
          continue;
        }
        idleSince = undefined;
      }
      if (pending.length === 0) break; // ended and drained
      const batch = pending.slice(0, batchSize);
      const sequenceNumbers = batch.map((r) => r.SequenceNumber ?? '');
      const first = sequenceNumbers[0] ?? '';
      const last = sequenceNumbers[sequenceNumbers.length - 1] ?? '';
      const retryIndex = first === failedStart ? consecutiveFailures : 0;
      const event: KinesisStreamEvent = {
        Records: batch.map((r) =>
          toKinesisEventRecord(r, {
            shardId: reader.shardId,
            eventSourceARN: settings.eventSourceARN,
            awsRegion: settings.awsRegion,
          }),
        ),
      };
      const started = Date.now();
      const { verdict, error } = await invoke(settings, event, sequenceNumbers);
      const durationMs = Date.now() - started;
      stats.invocations++;
      shard.invocations++;
      stats.delivered += batch.length;
      if (retryIndex > 0) stats.retries++;
      const report: BatchReport = {
        shardId: reader.shardId,
        records: batch.length,
        firstSequenceNumber: first,
        lastSequenceNumber: last,
        retry: retryIndex,
        outcome: verdict.kind === 'malformed' ? 'error' : verdict.kind,
        completed: 0,
        totalCompleted: 0,
        durationMs,
      };
      let done = batch.length;
      if (verdict.kind === 'partial') {
        stats.partialFailures++;
        report.retryFrom = verdict.retryFrom;
        done = sequenceNumbers.indexOf(verdict.retryFrom);
      } else if (verdict.kind === 'malformed') {
        stats.errors++;
        report.error = error ?? new Error(verdict.reason);
        done = 0;
      }
      if (done > 0) {
        pending.splice(0, done);
        shard.checkpoint = sequenceNumbers[done - 1];
        shard.records += done;
        stats.records += done;
      }
      report.completed = done;
      report.totalCompleted = stats.records;
      await settings.onBatch?.(report);
      if (verdict.kind === 'success') {
        failedStart = undefined;
        consecutiveFailures = 0;
        continue;
      }
      const nextStart = pending[0]?.SequenceNumber ?? '';
      consecutiveFailures = nextStart === failedStart ? consecutiveFailures + 1 : 1;
      failedStart = nextStart;
      if (consecutiveFailures > settings.maxRetries) {
        const remaining = batch.length - done;
        if (settings.onRetriesExhausted === 'throw') {
          throw new EventSourceRetriesExhaustedError(
            reader.shardId,
            nextStart,
            consecutiveFailures,
            report.error,
          );
        }
        const skipped: SkippedBatch = {
          shardId: reader.shardId,
          startSequenceNumber: nextStart,
          endSequenceNumber: last,
          records: remaining,
          attempts: consecutiveFailures,
          error: report.error,
        };
        pending.splice(0, remaining);
        shard.checkpoint = last;
        stats.skipped.push(skipped);
        await settings.onSkip?.(skipped);
        failedStart = undefined;
        consecutiveFailures = 0;
        continue;
      }
      await sleep(
        backoffDelay(consecutiveFailures, { baseDelayMs: settings.retryBaseDelayMs, maxDelayMs: 5_000 }),
        signal,
      );
    }
  } catch (error) {
    if (!(error instanceof AbortError && signal.aborted)) throw error;
  }
  if (reader.ended && pending.length === 0) shard.finished = true;
}
