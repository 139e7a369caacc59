import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KinesisArchiveError } from '@kinesis-archive/core';
import { afterAll, describe, expect, it } from 'vitest';
import { JavaNotFoundError, StandInStartError } from '../src/errors.js';
import { checkJava, startLocalAws } from '../src/start.js';

const dir = mkdtempSync(join(tmpdir(), 'ka-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake `java`: answers `-version` with `version`, and otherwise runs `body`. */
function fakeJava(name: string, version: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `#!/bin/sh\nif [ "$1" = "-version" ]; then echo 'openjdk version "${version}"' >&2; exit 0; fi\n${body}\n`,
  );
  chmodSync(file, 0o755);
  return file;
}

describe('start-up errors', () => {
  it('throws JavaNotFoundError, saying Java 17+ is needed and how to get it, when java is missing', async () => {
    const missing = join(dir, 'no-such-java');
    const error = await startLocalAws({ kinesis: false, javaCommand: missing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JavaNotFoundError);
    expect(error).toBeInstanceOf(KinesisArchiveError);
    expect((error as JavaNotFoundError).code).toBe('JAVA_NOT_FOUND');
    expect((error as Error).message).toMatch(/Java 17 or newer/);
    expect((error as Error).message).toMatch(/apt-get install|adoptium/);
  });

  it('throws JavaNotFoundError naming the version when java is older than 17', () => {
    const old = fakeJava('java8', '1.8.0_392', 'exit 0');
    expect(() => checkJava(old)).toThrow(/found Java 8, but DynamoDB Local needs Java 17/);
    expect(() => checkJava(fakeJava('java21', '21.0.2', 'exit 0'))).not.toThrow();
  });

  it('throws StandInStartError with the last log lines when a stand-in exits at once', async () => {
    const crashing = fakeJava(
      'java-crash',
      '17.0.9',
      'echo "starting up"; echo "fatal: port melted" >&2; exit 3',
    );
    const error = await startLocalAws({ kinesis: false, javaCommand: crashing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StandInStartError);
    expect((error as StandInStartError).code).toBe('STAND_IN_START_FAILED');
    expect((error as Error).message).toMatch(/DynamoDB Local did not start: it exited with code 3/);
    expect((error as Error).message).toMatch(/starting up\n.*fatal: port melted/s);
  });

  it('throws StandInStartError when a stand-in does not answer within the timeout', async () => {
    const error = await startLocalAws({ dynamodb: false, startTimeoutMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StandInStartError);
    expect((error as Error).message).toMatch(/kinesis-mock did not start: no answer within 1 ms/);
  });
});
