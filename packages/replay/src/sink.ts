import type { ShardMap } from '@kinesis-archive/agg';
import { AbortError, KinesisArchiveError } from '@kinesis-archive/core';
import { KeyBlockedError } from './errors.js';
import { type Item, loneUnit, type ReadyItem, type Unit } from './item.js';
import { type FailureJournal, type JournalEntry, newJournalId, toJournalRecord } from './journal.js';
import { KinesisWriter, type KinesisWriterOptions } from './kinesis-writer.js';
import type { ShardRateLimiter } from './rate-limiter.js';
import { ShardAggregation } from './shard-aggregation.js';
import type { KinesisClientLike, ReplayRecord } from './types.js';

/** The writer tuning a replay passes through. */
export type WriterTuning = Pick<
  KinesisWriterOptions,
  | 'concurrency'
  | 'maxBatchRecords'
  | 'maxBatchBytes'
  | 'maxRecordBytes'
  | 'maxBufferedRecords'
  | 'lingerMs'
  | 'retry'
>;

/** The journal could not store a failed record: the replay stopped before it. Code `JOURNAL_WRITE_FAILED`. */
export class JournalWriteError extends KinesisArchiveError {
  constructor(cause: unknown) {
    super(
      'JOURNAL_WRITE_FAILED',
      `the failure journal could not store a failed record, so the replay stopped before it: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** Options of a {@link Sink}. */
export interface SinkOptions {
  kinesis: KinesisClientLike;
  stream: { streamName: string } | { streamARN: string };
  journal: FailureJournal;
  ordered: boolean;
  onKeyFailure: 'block' | 'continue';
  dryRun: boolean;
  /** KPL aggregation with this map (`undefined`: none). */
  aggregation?: { shardMap: ShardMap; maxRecordBytes: number; maxAgeMs: number } | undefined;
  limiter?: ShardRateLimiter | undefined;
  writer?: WriterTuning | undefined;
  /** Called after each journal change (an append or a removal), e.g. to save a checkpoint that holds it. */
  onJournalChange?: (() => void) | undefined;
  /** Called as records settle, to report progress. */
  onProgress?: (() => void) | undefined;
}

/** Counters of a {@link Sink}. */
export interface SinkCounts {
  read: number;
  sent: number;
  failed: number;
}

/**
 * Where the units of a replay put their records: one writer (and aggregation) shared by every unit of a process,
 * and the rule that a record is settled (its cursor may pass it) only once Kinesis acknowledged it or the journal
 * stored it as failed. The first fatal error (a request refused for every record, the journal failing, a
 * callback throwing, a source error) stops everything: nothing more is sent, nothing more is read.
 */
export class Sink {
  readonly counts: SinkCounts = { read: 0, sent: 0, failed: 0 };
  private readonly writer: KinesisWriter<Unit> | undefined;
  private readonly aggregation: ShardAggregation | undefined;
  private readonly internal = new AbortController();
  private stopError: Error | undefined;
  private queue: { entry: JournalEntry; item: Item }[] = [];
  private removals: string[] = [];
  private journalBusy: Promise<void> | undefined;

  constructor(private readonly options: SinkOptions) {
    if (!options.dryRun) {
      this.writer = new KinesisWriter<Unit>({
        ...options.writer,
        kinesis: options.kinesis,
        ...options.stream,
        ordered: options.ordered,
        onKeyFailure: options.onKeyFailure,
        rateLimiter: options.limiter,
        signal: this.internal.signal,
        keepOutcomes: false,
        // only with aggregation (an aggregate acknowledged on another shard is re-sent as its user records)
        resend: options.aggregation
          ? (unit, info) => this.aggregation?.acknowledged(unit, info.shardId)
          : undefined,
        onSent: (unit) => {
          for (const item of unit.items) this.settle(item);
          this.counts.sent += unit.items.length;
          this.options.onProgress?.();
        },
        onFailed: (unit, error) => {
          for (const item of unit.items) this.fail(item, error);
        },
        onStopped: (error) => this.stop(error),
      });
    }
    const agg = options.aggregation;
    if (agg && this.writer)
      this.aggregation = new ShardAggregation(agg.shardMap, agg.maxRecordBytes, agg.maxAgeMs);
  }

  /** The signal that fires when the replay stops (fatal error) or is aborted. */
  get signal(): AbortSignal {
    return this.internal.signal;
  }

  /** The fatal error that stopped the sink, if any (an abort is not one). */
  get stoppedBy(): Error | undefined {
    return this.stopError;
  }

  /** Writer counters: Kinesis records written, retries, records re-sent after a reshard. */
  get writerStats(): { kinesisRecords: number; retries: number; resent: number } {
    const s = this.writer?.stats;
    return { kinesisRecords: s?.sent ?? 0, retries: s?.retries ?? 0, resent: s?.resent ?? 0 };
  }

  /** Stops everything with a fatal error (the first one wins). */
  stop(error: Error): void {
    if (this.internal.signal.aborted) return;
    this.stopError = error;
    this.internal.abort(error);
  }

  /** Stops everything without an error (the user's signal). */
  abort(reason: unknown): void {
    if (!this.internal.signal.aborted) this.internal.abort(new AbortError(reason));
  }

  /** Blocks keys (with `onKeyFailure: 'block'`): the keys of records in the journal, at the start of a run. */
  blockKeys(keys: Iterable<string>): void {
    if (!this.writer) return;
    const error = new Error('a record of this key is in the failure journal');
    for (const k of keys) this.writer.blockKeys([k], error);
  }

  /**
   * Sends a checked item (or settles it at once in a dry run). Returns a promise only when the item had to wait
   * (a full buffer, aggregation); `undefined` when it was taken at once. Rejects (or throws) once the sink
   * stopped or was aborted.
   */
  put(item: ReadyItem): Promise<void> | undefined {
    const writer = this.writer;
    if (!writer) {
      this.settle(item);
      return undefined;
    }
    if (writer.isKeyBlocked(item.checked.partitionKey)) {
      this.fail(item, new KeyBlockedError(item.checked.partitionKey));
      return undefined;
    }
    if (!this.aggregation) {
      const unit = loneUnit(item);
      return writer.offer(unit, item.checked) ? undefined : writer.put(unit);
    }
    return this.putAggregated(writer, this.aggregation, item);
  }

  private async putAggregated(
    writer: KinesisWriter<Unit>,
    aggregation: ShardAggregation,
    item: ReadyItem,
  ): Promise<void> {
    for (const unit of await aggregation.due()) await writer.put(unit);
    let units: Unit[];
    try {
      units = aggregation.add(item);
    } catch (error) {
      this.fail(item, error as Error);
      return;
    }
    for (const unit of units) await writer.put(unit);
  }

  /**
   * A record failed for good: it is journaled (with its payload, error and source position), and settled only
   * once the journal stored it. With `onKeyFailure: 'block'`, its key is blocked from now on.
   */
  fail(item: Item, error: Error): void {
    const key = item.record?.partitionKey;
    if (typeof key === 'string' && this.writer) this.writer.blockKeys([key], error);
    const entry: JournalEntry = {
      id: item.journalId ?? newJournalId(),
      unit: item.unit,
      source: item.position,
      record: toJournalRecord(safeRecord(item.record), bytesOf(item.record?.data)),
      error: errorOf(error),
      failedAt: new Date().toISOString(),
    };
    if (error instanceof KeyBlockedError) entry.blockedBy = error.partitionKey;
    this.queue.push({ entry, item });
    this.kickJournal();
  }

  /** Settles an item: its cursor may pass it; a record re-sent from the journal leaves the journal. */
  settle(item: Item): void {
    if (item.journalId !== undefined) {
      this.removals.push(item.journalId);
      this.kickJournal();
      return;
    }
    item.cursor?.settle(item.ordinal);
  }

  /** Sends every record held for aggregation (at the end of the reading). */
  async flushHeld(): Promise<void> {
    if (!this.aggregation || !this.writer || this.internal.signal.aborted) return;
    for (const unit of await this.aggregation.flush()) await this.writer.put(unit);
  }

  /** Waits until every record given to the writer is settled or unsent, and the journal is written. */
  async drain(): Promise<void> {
    if (this.writer) {
      try {
        await this.writer.flush();
      } catch (error) {
        this.stop(error as Error);
      }
    }
    await this.drainJournal();
  }

  /** Sends what is held for aggregation and waits until everything handed over is settled (or unsent). */
  async settleAll(): Promise<void> {
    try {
      await this.flushHeld();
    } catch (error) {
      if (!this.internal.signal.aborted) this.stop(error as Error);
    }
    await this.drain();
  }

  /** Settles everything, then closes the writer. */
  async close(): Promise<void> {
    await this.settleAll();
    if (this.writer) await this.writer.close().catch(() => undefined);
  }

  private async drainJournal(): Promise<void> {
    while (this.journalBusy || this.queue.length > 0 || this.removals.length > 0) {
      if (this.journalBusy) await this.journalBusy;
      else this.kickJournal();
    }
  }

  /** Writes the queued entries and removals, one call at a time, each call carrying all that queued meanwhile. */
  private kickJournal(): void {
    if (this.journalBusy) return;
    if (this.queue.length === 0 && this.removals.length === 0) return;
    this.journalBusy = (async () => {
      while (this.queue.length > 0 || this.removals.length > 0) {
        const batch = this.queue;
        this.queue = [];
        const removals = this.removals;
        this.removals = [];
        if (batch.length > 0) {
          try {
            await this.options.journal.append(batch.map((b) => b.entry));
          } catch (error) {
            // not stored: these records are not settled, so no cursor passes them
            this.stop(
              (error as { code?: string }).code === 'JOURNAL_FULL'
                ? (error as Error)
                : new JournalWriteError(error),
            );
            this.queue = [];
            this.removals = [];
            return;
          }
          for (const { item } of batch) {
            this.counts.failed++;
            item.cursor?.settle(item.ordinal);
          }
        }
        if (removals.length > 0) {
          try {
            await this.options.journal.remove(removals);
          } catch (error) {
            this.stop(new JournalWriteError(error));
            return;
          }
        }
        this.options.onJournalChange?.();
        this.options.onProgress?.();
      }
    })().finally(() => {
      this.journalBusy = undefined;
    });
  }
}

function errorOf(error: Error): JournalEntry['error'] {
  const out: JournalEntry['error'] = { code: codeOf(error), message: error.message };
  const details = (error as { details?: unknown }).details;
  if (details && typeof details === 'object' && Object.keys(details).length > 0) {
    out.details = JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  }
  return out;
}

function codeOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error.name && error.name !== 'Error' ? error.name : 'ERROR';
}

function bytesOf(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return new Uint8Array(0);
}

/** The record's fields as a journal can store them, whatever the source gave (a malformed record too). */
function safeRecord(record: ReplayRecord | undefined): ReplayRecord {
  const r = (record ?? {}) as Partial<ReplayRecord>;
  return {
    partitionKey: typeof r.partitionKey === 'string' ? r.partitionKey : String(r.partitionKey),
    data: '',
    explicitHashKey: typeof r.explicitHashKey === 'string' ? r.explicitHashKey : undefined,
    sequenceNumber: typeof r.sequenceNumber === 'string' ? r.sequenceNumber : undefined,
    subSequenceNumber: typeof r.subSequenceNumber === 'number' ? r.subSequenceNumber : undefined,
    shardId: typeof r.shardId === 'string' ? r.shardId : undefined,
    approximateArrivalTimestamp:
      r.approximateArrivalTimestamp instanceof Date ? r.approximateArrivalTimestamp : undefined,
  };
}
