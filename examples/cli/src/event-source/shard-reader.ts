import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { type GetRecordsRecord, isTransientError, retry } from '@kinesis-archive/core';
import type { StartingPosition } from './types.js';

/** One GetRecords page of a shard. */
export interface ShardPage {
  records: GetRecordsRecord[];
  /** True when the shard is closed and this page was its last. */
  ended: boolean;
  /** True when the reader is at the tip of the shard (nothing more to read right now). */
  atTip: boolean;
}

function errorName(error: unknown): string | undefined {
  return error && typeof error === 'object' && 'name' in error ? String(error.name) : undefined;
}

/**
 * Reads one shard page by page with GetRecords. Holds the shard iterator and re-opens it after the last record
 * read when it expires; retries throttling and transient errors with backoff.
 */
export class ShardReader {
  private iterator: string | undefined;
  private lastSequenceNumber: string | undefined;
  private done = false;

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    readonly shardId: string,
    private readonly start: StartingPosition,
    private readonly limit: number,
    private readonly signal?: AbortSignal,
  ) {}

  /** True once the closed shard was read to its end. */
  get ended(): boolean {
    return this.done;
  }

  private async open(): Promise<string | undefined> {
    const input: {
      StreamName: string;
      ShardId: string;
      ShardIteratorType: ShardIteratorType;
      StartingSequenceNumber?: string;
      Timestamp?: Date;
    } = { StreamName: this.streamName, ShardId: this.shardId, ShardIteratorType: 'TRIM_HORIZON' };
    if (this.lastSequenceNumber !== undefined) {
      input.ShardIteratorType = 'AFTER_SEQUENCE_NUMBER';
      input.StartingSequenceNumber = this.lastSequenceNumber;
    } else if (this.start === 'LATEST') {
      input.ShardIteratorType = 'LATEST';
    } else if (typeof this.start === 'object') {
      input.ShardIteratorType = 'AT_TIMESTAMP';
      input.Timestamp = this.start.timestamp;
    }
    const out = await retry(() => this.kinesis.send(new GetShardIteratorCommand(input)), {
      signal: this.signal,
      maxAttempts: 10,
    });
    return out.ShardIterator;
  }

  /** Reads the next page. After the end of a closed shard, returns empty pages with `ended: true`. */
  async next(): Promise<ShardPage> {
    if (this.done) return { records: [], ended: true, atTip: true };
    this.iterator ??= await this.open();
    if (this.iterator === undefined) {
      this.done = true;
      return { records: [], ended: true, atTip: true };
    }
    const out = await retry(
      async () => {
        try {
          return await this.kinesis.send(
            new GetRecordsCommand({ ShardIterator: this.iterator, Limit: this.limit }),
          );
        } catch (error) {
          if (errorName(error) === 'ExpiredIteratorException') this.iterator = await this.open();
          throw error;
        }
      },
      {
        signal: this.signal,
        maxAttempts: 10,
        isRetryable: (error) => errorName(error) === 'ExpiredIteratorException' || isTransientError(error),
      },
    );
    const records = (out.Records ?? []) as GetRecordsRecord[];
    const last = records[records.length - 1];
    if (last?.SequenceNumber) this.lastSequenceNumber = last.SequenceNumber;
    this.iterator = out.NextShardIterator ?? undefined;
    if (this.iterator === undefined) this.done = true;
    const atTip = records.length === 0 && (out.MillisBehindLatest ?? 0) === 0;
    return { records, ended: this.done, atTip: atTip || this.done };
  }
}
