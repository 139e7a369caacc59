import type { KinesisBatchResponse, KinesisStreamEvent } from '@kinesis-archive/core';

/** Where shards that exist when the runner starts are read from (shards created later: from their start). */
export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | { timestamp: Date };

/** The part of a Lambda context a local invocation provides. */
export interface LocalLambdaContext {
  /** A fresh id per invocation. */
  awsRequestId: string;
  /** `local-event-source`. */
  functionName: string;
  /** Always a generous constant: there is no timeout locally. */
  getRemainingTimeInMillis(): number;
}

/**
 * A Kinesis Lambda handler. Return nothing (or an empty `batchItemFailures`) for success, a partial batch response
 * to report failed items, or throw to fail the whole batch.
 */
export type KinesisHandler = (event: KinesisStreamEvent, context: LocalLambdaContext) => HandlerResult;

/** What a {@link KinesisHandler} may return (or resolve to); `void` so that handlers returning nothing fit. */
export type HandlerResult =
  // biome-ignore lint/suspicious/noConfusingVoidType: async handlers that return nothing (`Promise<void>`) must fit.
  Promise<KinesisBatchResponse | undefined | null | void> | KinesisBatchResponse | undefined | null | void;

/** How one invocation ended. */
export type InvocationOutcome = 'success' | 'partial' | 'error';

/** What `onBatch` is told after every invocation. */
export interface BatchReport {
  /** The shard the batch came from. */
  shardId: string;
  /** Records in the event. */
  records: number;
  /** Sequence numbers of the first and last record of the event. */
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  /** 0 for a first delivery, n for the n-th retry from the same record. */
  retry: number;
  /** `success`, `partial` (batchItemFailures) or `error` (thrown or malformed response). */
  outcome: InvocationOutcome;
  /** Records of this invocation now checkpointed (all for `success`, those before `retryFrom` for `partial`). */
  completed: number;
  /** Records completed so far in the whole run. */
  totalCompleted: number;
  /** For `partial`: the lowest reported sequence number, where the next invocation starts. */
  retryFrom?: string;
  /** For `error`: what went wrong. */
  error?: unknown;
  /** How long the handler took, in ms. */
  durationMs: number;
}

/** A batch given up on (`onRetriesExhausted: 'skip'`), as Lambda's on-failure destination would describe it. */
export interface SkippedBatch {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  records: number;
  attempts: number;
  error?: unknown;
}

/** Per-shard figures of a run. */
export interface ShardStats {
  /** Sequence number of the last record the handler completed (the checkpoint), if any. */
  checkpoint?: string;
  /** Records completed (each counted once). */
  records: number;
  /** Handler invocations for this shard. */
  invocations: number;
  /** True when the shard is closed and was read to its end. */
  finished: boolean;
}

/** What {@link runKinesisEventSource} returns. */
export interface EventSourceStats {
  /** Handler invocations in all. */
  invocations: number;
  /** Records completed, each counted once (`records + skipped records` = records read). */
  records: number;
  /** Records handed to the handler, re-deliveries included. */
  delivered: number;
  /** Invocations that were retries (after a partial failure or an error). */
  retries: number;
  /** Invocations that reported batchItemFailures. */
  partialFailures: number;
  /** Invocations that threw or returned a malformed response. */
  errors: number;
  /** Batches given up on (only with `onRetriesExhausted: 'skip'`). */
  skipped: SkippedBatch[];
  /** Per shard: checkpoint and counts. */
  shards: Record<string, ShardStats>;
  /** Wall time of the run, in ms. */
  elapsedMs: number;
}
