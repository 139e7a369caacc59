import { AbortError, RetryExhaustedError } from './errors.js';

/** How long to wait between attempts: "full jitter" exponential backoff. */
export interface BackoffOptions {
  /** Delay cap for the first retry, in ms. Default 50. */
  baseDelayMs?: number;
  /** Largest delay between two attempts, in ms. Default 5,000. */
  maxDelayMs?: number;
  /** Attempts in all, the first included. Default 8. */
  maxAttempts?: number;
  /** Total time budget in ms, from the first attempt; no wait is started that would end past it. Default 30,000. */
  budgetMs?: number;
  /** Cancels the waiting (the wait rejects with {@link AbortError}). */
  signal?: AbortSignal;
  /** Source of randomness in [0, 1), for deterministic tests. Default `Math.random`. */
  random?: () => number;
}

/** Options of {@link retry}. */
export interface RetryOptions extends BackoffOptions {
  /** Whether an error is worth another attempt. Default {@link isTransientError}. */
  isRetryable?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to count retries. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

const DEFAULTS = { baseDelayMs: 50, maxDelayMs: 5_000, maxAttempts: 8, budgetMs: 30_000 };

/**
 * The delay before retry number `attempt` (1 for the first retry): a uniformly random value in
 * `[0, min(maxDelayMs, baseDelayMs * 2^(attempt-1))]` ("full jitter").
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseDelayMs ?? DEFAULTS.baseDelayMs;
  const max = options.maxDelayMs ?? DEFAULTS.maxDelayMs;
  const cap = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.floor((options.random ?? Math.random)() * cap);
}

/** Resolves after `ms` milliseconds; rejects with {@link AbortError} when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A backoff schedule for loops that retry part of their work (the unprocessed items of a batch, the failed
 * entries of a PutRecords). Call {@link Backoff.wait} before each retry: it sleeps with jitter and returns `false`
 * once the attempts or the time budget are used up.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ maxAttempts: 10 });
 * let pending = items;
 * while (pending.length > 0) {
 *   pending = await sendAndReturnFailures(pending);
 *   if (pending.length > 0 && !(await backoff.wait())) break; // give up: report `pending`
 * }
 * ```
 */
export class Backoff {
  /** Waits done so far (= retries). */
  retries = 0;
  private readonly started = Date.now();
  private readonly options: BackoffOptions;

  constructor(options: BackoffOptions = {}) {
    this.options = options;
  }

  /** Milliseconds since the schedule was created. */
  get elapsedMs(): number {
    return Date.now() - this.started;
  }

  /** The delay the next wait would take, or `undefined` when no retry is left. */
  nextDelay(): number | undefined {
    const attempts = this.options.maxAttempts ?? DEFAULTS.maxAttempts;
    if (this.retries + 1 >= attempts) return undefined;
    const delay = backoffDelay(this.retries + 1, this.options);
    const budget = this.options.budgetMs ?? DEFAULTS.budgetMs;
    if (this.elapsedMs + delay > budget) return undefined;
    return delay;
  }

  /** Sleeps before the next attempt; `false` (without sleeping) when attempts or budget are used up. */
  async wait(): Promise<boolean> {
    const delay = this.nextDelay();
    if (delay === undefined) return false;
    this.retries++;
    await sleep(delay, this.options.signal);
    return true;
  }
}

/**
 * Calls `fn` until it succeeds, waiting with jittered exponential backoff between attempts, as long as the error
 * is retryable and the attempts and time budget last. Throws the error itself when it is not retryable, and
 * {@link RetryExhaustedError} (whose `cause` is the last error) when the schedule runs out.
 *
 * @example
 * ```ts
 * const out = await retry(() => client.send(new PutItemCommand(input)), { maxAttempts: 5 });
 * ```
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const backoff = new Backoff(options);
  const isRetryable = options.isRetryable ?? isTransientError;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw new AbortError(options.signal.reason);
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isRetryable(error, attempt)) throw error;
      const delayMs = backoff.nextDelay();
      if (delayMs === undefined) throw new RetryExhaustedError(attempt, backoff.elapsedMs, error);
      options.onRetry?.({ attempt, delayMs, error });
      backoff.retries++;
      await sleep(delayMs, options.signal);
    }
  }
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'RequestThrottledException',
  'SlowDown',
]);

const TRANSIENT = new Set([
  'InternalFailure',
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSThrottlingException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** Name of an AWS error (`ThrottlingException`, ...) or a per-entry error code string. */
function errorName(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') {
    const e = error as ErrorShape;
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/** True for AWS throttling errors (by exception name or error code). */
export function isThrottlingError(error: unknown): boolean {
  const name = errorName(error);
  return name !== undefined && THROTTLING.has(name);
}

/**
 * True for errors worth retrying: throttling, AWS 5xx and internal failures, timeouts, dropped connections and
 * errors the SDK marks `$retryable`. Validation errors, missing resources and failed conditions are not.
 */
export function isTransientError(error: unknown): boolean {
  if (isThrottlingError(error)) return true;
  const name = errorName(error);
  if (name !== undefined && (TRANSIENT.has(name) || NETWORK_CODES.has(name))) return true;
  if (error && typeof error === 'object') {
    const e = error as ErrorShape;
    if (e.$retryable) return true;
    const status = e.$metadata?.httpStatusCode;
    if (typeof status === 'number' && status >= 500) return true;
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && /socket hang up|ECONNRESET|other side closed/i.test(e.message))
      return true;
  }
  return false;
}
