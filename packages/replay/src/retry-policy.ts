import { Backoff, type BackoffOptions, isThrottlingError, isTransientError } from '@kinesis-archive/core';

/**
 * What to do with a record whose `PutRecords` attempt failed:
 * - `retry`: transient (throttling, internal failure, timeout, dropped connection); try again after a backoff;
 * - `fail`: this record cannot be sent (its entry was rejected for good, or its retries ran out);
 * - `fatal`: the request itself was refused for a reason that fails every record (stream not found, access
 *   denied, KMS key unusable, invalid credentials): sending more cannot help, so the writer stops.
 */
export type Outcome = 'retry' | 'fail' | 'fatal';

/** Default backoff of a failed record: 10 attempts, 100 ms..5 s, within 60 s. */
export const DEFAULT_RETRY: Omit<BackoffOptions, 'signal'> = {
  maxAttempts: 10,
  baseDelayMs: 100,
  budgetMs: 60_000,
};

/** The outcome of a failed entry of a `PutRecords` answer (its `ErrorCode`). */
export function entryOutcome(errorCode: string | undefined): Outcome {
  // no result for the entry at all: the answer was cut short; the entry may go again
  if (errorCode === undefined) return 'retry';
  return isTransientError(errorCode) ? 'retry' : 'fail';
}

/** The outcome of a `PutRecords` request that failed as a whole. */
export function requestOutcome(error: unknown): Outcome {
  return isTransientError(error) ? 'retry' : 'fatal';
}

/** True when Kinesis said to slow down (the shard's budget is spent). */
export function isThrottle(codeOrError: unknown): boolean {
  return isThrottlingError(codeOrError);
}

/**
 * The retry schedule of one record: created at its first failure, it says how long to wait before the next
 * attempt, or `undefined` once the attempts or the time budget are used up.
 */
export class RecordRetry {
  private backoff: Backoff | undefined;

  constructor(private readonly options: Omit<BackoffOptions, 'signal'> | undefined) {}

  /** The delay before the next attempt, or `undefined` to give up. */
  next(): number | undefined {
    this.backoff ??= new Backoff({ ...DEFAULT_RETRY, ...this.options });
    const delay = this.backoff.nextDelay();
    if (delay !== undefined) this.backoff.retries++;
    return delay;
  }
}
