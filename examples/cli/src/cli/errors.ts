import { KinesisArchiveError } from '@kinesis-archive/core';

/** A command line that cannot be used (bad value, missing option). The CLI exits with code 2. */
export class UsageError extends KinesisArchiveError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** A resource the command needs does not exist (code `TABLE_NOT_FOUND`, `STREAM_NOT_FOUND`). The CLI exits with code 1. */
export class NotFoundError extends KinesisArchiveError {
  /** What to do about it. */
  readonly hint: string;

  constructor(what: string, name: string, hint = 'check the name, --region and the endpoint') {
    super(`${what.toUpperCase()}_NOT_FOUND`, `${what} ${JSON.stringify(name)} does not exist`, {
      details: { what, name },
    });
    this.hint = hint;
  }
}

/**
 * A command cannot run against what it found (a table without a stream, a table of the other mode): a typed
 * failure with a stable code and what to do next. The CLI exits with code 1.
 */
export class CommandError extends KinesisArchiveError {
  /** What to do about it. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, hint?: string) {
    super(code, message);
    this.hint = hint;
  }
}
