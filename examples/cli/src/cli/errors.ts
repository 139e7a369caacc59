import { KinesisArchiveError } from '@kinesis-archive/core';

/** A command line that cannot be used (bad value, missing option). The CLI exits with code 2. */
export class UsageError extends KinesisArchiveError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** A resource the command needs does not exist (table, stream). The CLI exits with code 1. */
export class NotFoundError extends KinesisArchiveError {
  constructor(what: string, name: string) {
    super('NOT_FOUND', `${what} ${JSON.stringify(name)} does not exist`, { details: { what, name } });
  }
}
