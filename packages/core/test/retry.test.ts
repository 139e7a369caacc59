import { describe, expect, it } from 'vitest';
import {
  AbortError,
  Backoff,
  backoffDelay,
  isThrottlingError,
  isTransientError,
  KinesisArchiveError,
  RetryExhaustedError,
  retry,
  sleep,
} from '../src/index.js';

function awsError(name: string, status = 400): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

describe('backoffDelay', () => {
  it('is full jitter under an exponential cap', () => {
    expect(backoffDelay(1, { baseDelayMs: 100, random: () => 0.999 })).toBe(99);
    expect(backoffDelay(3, { baseDelayMs: 100, random: () => 0.5 })).toBe(200);
    expect(backoffDelay(30, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 })).toBe(999);
    expect(backoffDelay(2, { random: () => 0 })).toBe(0);
  });
});

describe('retry', () => {
  it('retries transient errors until success', async () => {
    let calls = 0;
    const retries: number[] = [];
    const out = await retry(
      async () => {
        calls++;
        if (calls < 3) throw awsError('ProvisionedThroughputExceededException');
        return 'ok';
      },
      { baseDelayMs: 1, onRetry: (i) => retries.push(i.attempt) },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
    expect(retries).toEqual([1, 2]);
  });

  it('does not retry a permanent error', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw awsError('ValidationException');
      }),
    ).rejects.toThrow('ValidationException');
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts with the last error as cause', async () => {
    let calls = 0;
    const err = await retry(
      async () => {
        calls++;
        throw awsError('InternalFailure', 500);
      },
      { maxAttempts: 4, baseDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryExhaustedError);
    expect(err).toBeInstanceOf(KinesisArchiveError);
    expect((err as RetryExhaustedError).attempts).toBe(4);
    expect((err as RetryExhaustedError).code).toBe('RETRY_EXHAUSTED');
    expect(((err as Error).cause as Error).name).toBe('InternalFailure');
    expect(calls).toBe(4);
  });

  it('respects the time budget', async () => {
    const started = Date.now();
    const err = await retry(
      async () => {
        throw awsError('ThrottlingException');
      },
      { maxAttempts: 1000, baseDelayMs: 20, maxDelayMs: 20, budgetMs: 150, random: () => 0.99 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryExhaustedError);
    // 1000 attempts at 20 ms would take 20 s: well under that shows the 150 ms budget stopped it (room for a loaded machine).
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    const pending = retry(
      async () => {
        throw awsError('ThrottlingException');
      },
      { baseDelayMs: 10_000, random: () => 0.99, signal: controller.signal },
    );
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
  });
});

describe('Backoff', () => {
  it('counts retries and ends after maxAttempts', async () => {
    const b = new Backoff({ maxAttempts: 3, baseDelayMs: 1 });
    expect(await b.wait()).toBe(true);
    expect(await b.wait()).toBe(true);
    expect(await b.wait()).toBe(false);
    expect(b.retries).toBe(2);
  });

  it('sleep rejects when aborted', async () => {
    await expect(sleep(10, AbortSignal.abort())).rejects.toBeInstanceOf(AbortError);
  });
});

describe('error classification', () => {
  it('knows throttling', () => {
    expect(isThrottlingError(awsError('ThrottlingException'))).toBe(true);
    expect(isThrottlingError('ProvisionedThroughputExceededException')).toBe(true);
    expect(isThrottlingError(awsError('ValidationException'))).toBe(false);
  });
  it('knows transient failures', () => {
    expect(isTransientError(awsError('InternalFailure', 500))).toBe(true);
    expect(isTransientError(awsError('Whatever', 503))).toBe(true);
    expect(isTransientError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientError(awsError('ConditionalCheckFailedException'))).toBe(false);
    expect(isTransientError(awsError('ResourceNotFoundException'))).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
  });
});
