import { KinesisArchiveError } from '@kinesis-archive/core';

/** DynamoDB Local needs a Java runtime, and none (or one older than 17) was found on PATH. */
export class JavaNotFoundError extends KinesisArchiveError {
  constructor(found?: string) {
    super(
      'JAVA_NOT_FOUND',
      `${found ? `found ${found}, but ` : 'no `java` on PATH: '}DynamoDB Local needs Java 17 or newer. ` +
        'Install a JRE (Debian/Ubuntu: `sudo apt-get install openjdk-17-jre-headless`; macOS: `brew install openjdk@17`; ' +
        'Windows and others: https://adoptium.net), make sure `java -version` works, or start only Kinesis with ' +
        '`startLocalAws({ dynamodb: false })`.',
      { details: { found } },
    );
  }
}

/** A stand-in did not start or did not answer in time; the message ends with its last log lines. */
export class StandInStartError extends KinesisArchiveError {
  constructor(name: string, reason: string, logs: string, cause?: unknown) {
    super(
      'STAND_IN_START_FAILED',
      `${name} did not start: ${reason}${logs ? `\n--- last output of ${name} ---\n${logs}` : ' (it printed nothing)'}`,
      { cause, details: { standIn: name } },
    );
  }
}
