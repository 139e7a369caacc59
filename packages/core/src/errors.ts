/**
 * Base class of every error thrown by a kinesis-archive package.
 *
 * `code` is stable and meant for programs (`switch (err.code)`); `message` is for people.
 * Packages subclass it so that `err instanceof KinesisArchiveError` catches all of ours.
 *
 * @example
 * ```ts
 * try {
 *   await writer.write(records);
 * } catch (err) {
 *   if (err instanceof KinesisArchiveError) console.error(err.code, err.message);
 * }
 * ```
 */
export class KinesisArchiveError extends Error {
  /** A stable, machine-readable error code such as `INVALID_SEQUENCE_NUMBER`. */
  readonly code: string;
  /** Structured facts about the failure (the record, the limit, ...), safe to log. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** Thrown by {@link retry} when the attempts or the time budget are used up; `cause` is the last error. */
export class RetryExhaustedError extends KinesisArchiveError {
  /** How many attempts were made. */
  readonly attempts: number;

  constructor(attempts: number, elapsedMs: number, cause: unknown) {
    super(
      'RETRY_EXHAUSTED',
      `gave up after ${attempts} attempt(s) in ${Math.round(elapsedMs)} ms: ${describeError(cause)}`,
      { cause, details: { attempts, elapsedMs } },
    );
    this.attempts = attempts;
  }
}

/** Thrown when an operation is cancelled through an `AbortSignal`. */
export class AbortError extends KinesisArchiveError {
  constructor(reason?: unknown) {
    super('ABORTED', 'the operation was aborted', { cause: reason });
  }
}

/** A one-line description of any thrown value (its name and message when it is an Error). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  }
  return String(error);
}
