import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { type BackoffOptions, backoffDelay, compareSequenceNumbers } from '@kinesis-archive/core';
import { RecordDecodeError } from './errors.js';
import { type ReadContext, readShardBatch, type ShardCursor } from './reader.js';
import type { ChangeRecord } from './records.js';
import type { ShardProgress } from './shard-state.js';

/** What delivering a batch achieved: how many of its changes settled, in order, and why the rest did not. */
export interface Delivery {
  /** Changes settled (committed), from the first. */
  settled: number;
  /** Set when a change failed (its listener threw); absent when the delivery was cut short by a stop. */
  error?: Error;
}

/** Hands a batch of one shard's changes, oldest first, to the consumer. */
export type Deliver = (shardId: string, changes: ChangeRecord[], signal: AbortSignal) => Promise<Delivery>;

/** A change that failed as many times as the poison policy allows. */
export interface PoisonInfo {
  /** The shard it was read from. */
  shardId: string;
  /** Its sequence number. */
  sequenceNumber: string;
  /** The decoded change; `undefined` when the record itself could not be decoded. */
  record: ChangeRecord | undefined;
  /** The record as GetRecords returned it (the payload, to keep in a dead-letter store). */
  raw: _Record;
  /** The last error. */
  error: Error;
  /** Attempts made. */
  attempts: number;
}

/** Options of the poison policy ({@link DynamoDBStreamOptions.poison}). */
export interface PoisonOptions {
  /** Attempts of a change (its listeners, or its decoding) before it is handed to the policy. Default 5. */
  maxAttempts?: number;
  /** Pause between attempts (core's `BackoffOptions`). Default: 100 ms doubling up to 10 s. */
  backoff?: BackoffOptions;
  /**
   * The dead-letter callback: gets the change and its error once the attempts are used up. The shard moves past
   * the change only when this settled; if it throws, the change is tried again later. Without it, a `'poison'`
   * event is emitted (its listeners are awaited the same way); without either, the change is retried for ever
   * and the shard waits (nothing is lost).
   */
  onPoison?: (info: PoisonInfo) => void | Promise<void>;
}

/** The result of one step of a shard: read one batch and deliver it. */
export type StepResult =
  | {
      kind: 'records';
      /** Changes settled. */
      count: number;
      /** Approximate creation time of the newest change of the batch. */
      newest: Date | undefined;
    }
  | { kind: 'empty' }
  | { kind: 'end' }
  | { kind: 'aborted' }
  | { kind: 'failed'; delayMs: number };

/** What a shard worker needs from its consumer. */
export interface WorkerHost {
  progress(shardId: string): ShardProgress | undefined;
  cursor(shardId: string): ShardCursor;
  decode(shardId: string, raw: _Record): ChangeRecord;
  commit(shardId: string, sequenceNumber: string): void;
  retire(shardId: string): Promise<void>;
  vanish(shardId: string, error: unknown): Promise<void>;
  report(error: Error): void;
  /** Hands a poison change to the policy; `false` when no handler is there to take it. Throws what a handler throws. */
  poison(info: PoisonInfo): Promise<boolean>;
  readonly poisonOptions: PoisonOptions;
  /** Backoff of failed reads. */
  readonly retry: BackoffOptions;
}

const POISON_BACKOFF: BackoffOptions = { baseDelayMs: 100, maxDelayMs: 10_000 };

/**
 * One shard's reading: opens its iterator from the saved progress, reads a batch, drops records already processed,
 * delivers the rest and moves the iterator only past what settled. A change that keeps failing goes to the poison
 * policy; the shard is retired once drained to its end (the lineage gate then lets its children start).
 */
export class ShardWorker {
  readonly shardId: string;
  private readonly host: WorkerHost;
  /** The change that failed last, and how many times in a row. */
  private failedAt: string | undefined;
  private attempts = 0;
  private readFailures = 0;

  constructor(shardId: string, host: WorkerHost) {
    this.shardId = shardId;
    this.host = host;
  }

  /** Reads one batch and delivers it; failures go to `report` (default: the host's). Never throws. */
  async step(
    ctx: ReadContext,
    deliver: Deliver,
    signal: AbortSignal,
    report: (error: Error) => void = this.host.report,
  ): Promise<StepResult> {
    const id = this.shardId;
    const progress = this.host.progress(id);
    if (!progress || progress.retired) return { kind: 'end' };
    const cursor = this.host.cursor(id);
    const outcome = await readShardBatch(ctx, id, progress, cursor);
    if (outcome.kind === 'aborted') return { kind: 'aborted' };
    if (outcome.kind === 'vanished') {
      await this.host.vanish(id, outcome.error);
      return { kind: 'end' };
    }
    if (outcome.kind === 'failed') {
      report(outcome.error);
      this.readFailures++;
      return {
        kind: 'failed',
        delayMs: backoffDelay(this.readFailures, { ...POISON_BACKOFF, ...this.host.retry }),
      };
    }
    this.readFailures = 0;

    const changes: ChangeRecord[] = [];
    let undecodable: { raw: _Record; error: Error } | undefined;
    const done = progress.sequenceNumber;
    for (const raw of outcome.records) {
      let change: ChangeRecord;
      try {
        change = this.host.decode(id, raw);
      } catch (error) {
        undecodable = { raw, error: new RecordDecodeError(id, raw.dynamodb?.SequenceNumber ?? '?', error) };
        break;
      }
      // A record at or before the processed position (a re-read after a re-opened iterator) is not repeated.
      if (done !== undefined && compareSequenceNumbers(change.sequenceNumber, done) <= 0) continue;
      changes.push(change);
    }
    const atEnd = undecodable === undefined && outcome.next === undefined;

    const delivery: Delivery = changes.length > 0 ? await deliver(id, changes, signal) : { settled: 0 };
    if (delivery.settled === changes.length && undecodable === undefined) {
      cursor.iterator = outcome.next;
      cursor.resumeAt = undefined;
      this.failedAt = undefined;
      this.attempts = 0;
      if (atEnd) {
        await this.host.retire(id);
        return { kind: 'end' };
      }
      if (changes.length === 0) return { kind: 'empty' };
      return { kind: 'records', count: changes.length, newest: changes.at(-1)?.approximateCreationDateTime };
    }

    // Not everything settled: read again from the first change that did not.
    const stuck = changes[delivery.settled];
    const stuckRaw = stuck?.raw ?? undecodable!.raw;
    const stuckSeq = stuck?.sequenceNumber ?? stuckRaw.dynamodb?.SequenceNumber;
    cursor.iterator = delivery.settled === 0 ? outcome.iteratorUsed : undefined;
    cursor.resumeAt = stuckSeq;
    const error = stuck ? delivery.error : undecodable!.error;
    if (error === undefined) return { kind: 'aborted' };

    report(error);
    this.attempts = this.failedAt === stuckSeq ? this.attempts + 1 : 1;
    this.failedAt = stuckSeq;
    const options = this.host.poisonOptions;
    if (stuckSeq !== undefined && this.attempts >= (options.maxAttempts ?? 5)) {
      try {
        const taken = await this.host.poison({
          shardId: id,
          sequenceNumber: stuckSeq,
          record: stuck,
          raw: stuckRaw,
          error,
          attempts: this.attempts,
        });
        if (taken) {
          this.host.commit(id, stuckSeq);
          cursor.iterator = undefined;
          cursor.resumeAt = undefined;
          this.failedAt = undefined;
          this.attempts = 0;
          return { kind: 'records', count: delivery.settled + 1, newest: stuck?.approximateCreationDateTime };
        }
      } catch (handlerError) {
        report(handlerError instanceof Error ? handlerError : new Error(String(handlerError)));
      }
    }
    return {
      kind: 'failed',
      delayMs: backoffDelay(this.attempts, { ...POISON_BACKOFF, ...options.backoff }),
    };
  }
}
