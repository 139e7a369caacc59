import type { ReplayFailure } from './types.js';

/**
 * What a replay did. When `ok` is `false`, `failed` lists every record that was not sent, with its error:
 * nothing is dropped silently.
 */
export interface ReplayResult {
  /** `true` when every record read (in this segment) was sent and the replay was not aborted. */
  ok: boolean;
  /** Records read from the source (after skipping the checkpointed part and other segments' records). */
  read: number;
  /** User records acknowledged by Kinesis (0 with `dryRun`). */
  sent: number;
  /** Kinesis records written: equals `sent` without aggregation, fewer with `aggregate: true`. */
  kinesisRecords: number;
  /** Entries re-sent after a failure (partial failure, throttling, transient error). */
  retries: number;
  /** Records that could not be sent, with their errors. */
  failed: ReplayFailure[];
  /** Records skipped because a checkpoint said they were already replayed. */
  skipped: number;
  /** `true` when the replay stopped because its `AbortSignal` fired. */
  aborted: boolean;
  /** Wall time of the replay in milliseconds. */
  elapsedMs: number;
}
