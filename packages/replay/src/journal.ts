import { KinesisArchiveError } from '@kinesis-archive/core';
import type { ReplayRecord } from './types.js';

/** Where a record stands in its source, in the source's own terms (JSON). */
export type SourcePosition =
  /** A record of an archive scan or query: its key in the archive. */
  | { partitionKey: string; sequenceNumber: string; subSequenceNumber: number }
  /** A record of any other iterable: its index in read order, and who it is (checked when resuming). */
  | {
      index: number;
      partitionKey: string;
      sequenceNumber?: string | undefined;
      subSequenceNumber?: number | undefined;
    };

/**
 * A record that failed for good, kept with its payload so that it can be sent again: what a
 * {@link FailureJournal} stores. Plain JSON (the payload in base64).
 */
export interface JournalEntry {
  /** Unique; ids sort in the order the failures were journaled (so a key's records stay in order). */
  id: string;
  /** The unit of work the record came from (`scan:3/8`, `query`, `iterable`, `journal`). */
  unit: string;
  /** Where the record is in its source. */
  source: SourcePosition;
  /** The record, byte-exact. */
  record: JournalRecord;
  /**
   * Why it failed: `PUT_RECORDS_FAILED`, `RECORD_TOO_LARGE`, `KEY_BLOCKED`, ...; `details` are the error's
   * facts (for `PUT_RECORDS_FAILED`: Kinesis' `errorCode` and the `attempts`).
   */
  error: { code: string; message: string; details?: Record<string, unknown> | undefined };
  /** With `KEY_BLOCKED`: the key whose earlier record failed. */
  blockedBy?: string | undefined;
  /** When it was journaled (ISO 8601). */
  failedAt: string;
}

/** A {@link ReplayRecord} as JSON: the payload in base64, the time in ISO 8601. */
export interface JournalRecord {
  partitionKey: string;
  /** The payload, base64. */
  data: string;
  explicitHashKey?: string | undefined;
  sequenceNumber?: string | undefined;
  subSequenceNumber?: number | undefined;
  shardId?: string | undefined;
  approximateArrivalTimestamp?: string | undefined;
}

/**
 * Durable storage for records that failed for good. The replayer appends an entry before its cursor passes the
 * record (so a crash cannot lose it), removes an entry only once its record was sent again (`retryFailed`), and
 * never otherwise. Implementations here: {@link MemoryFailureJournal}, `FileFailureJournal`,
 * `DynamoDBFailureJournal`; any object with these three methods works.
 */
export interface FailureJournal {
  /** Stores the entries durably (an entry with an id already stored replaces it). Resolves once they are. */
  append(entries: readonly JournalEntry[]): Promise<void>;
  /** Every stored entry, in id order. */
  list(): AsyncIterable<JournalEntry>;
  /** Deletes these entries (ids not stored are ignored). */
  remove(ids: readonly string[]): Promise<void>;
}

/** A journal refused an entry because it is full (see {@link MemoryFailureJournal}). Code `JOURNAL_FULL`. */
export class JournalFullError extends KinesisArchiveError {
  constructor(limit: string) {
    super(
      'JOURNAL_FULL',
      `the failure journal is full (${limit}): the replay stopped before the record rather than lose it; pass a durable journal (FileFailureJournal, DynamoDBFailureJournal) to keep more failures`,
      { details: { limit } },
    );
  }
}

/** Bounds of a {@link MemoryFailureJournal}. */
export interface MemoryJournalLimits {
  /** Most entries. Default 1,000. */
  maxEntries?: number | undefined;
  /** Most payload bytes (base64 counted). Default 8 MiB. */
  maxBytes?: number | undefined;
}

/**
 * A journal in memory, bounded: past its bounds `append` throws {@link JournalFullError} (the replay stops, fail
 * closed). The replayer uses one when no journal is given, and keeps its entries in the checkpoint (so
 * they are as durable as the checkpoint); pass one yourself to read the failed payloads after a replay.
 */
export class MemoryFailureJournal implements FailureJournal {
  private readonly stored = new Map<string, JournalEntry>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(limits: MemoryJournalLimits = {}, initial: readonly JournalEntry[] = []) {
    this.maxEntries = limits.maxEntries ?? 1_000;
    this.maxBytes = limits.maxBytes ?? 8 * 1_048_576;
    for (const e of initial) this.put(e);
  }

  /** Entries stored, in id order. */
  get entries(): JournalEntry[] {
    return [...this.stored.values()].sort((a, b) => compareIds(a.id, b.id));
  }

  get size(): number {
    return this.stored.size;
  }

  async append(entries: readonly JournalEntry[]): Promise<void> {
    let count = this.stored.size;
    let bytes = this.bytes;
    for (const e of entries) {
      const old = this.stored.get(e.id);
      if (!old) count++;
      bytes += e.record.data.length - (old?.record.data.length ?? 0);
    }
    if (count > this.maxEntries) throw new JournalFullError(`${this.maxEntries} entries`);
    if (bytes > this.maxBytes) throw new JournalFullError(`${this.maxBytes} bytes`);
    for (const e of entries) this.put(e);
  }

  async *list(): AsyncIterable<JournalEntry> {
    yield* this.entries;
  }

  async remove(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const old = this.stored.get(id);
      if (!old) continue;
      this.bytes -= old.record.data.length;
      this.stored.delete(id);
    }
  }

  private put(e: JournalEntry): void {
    this.bytes += e.record.data.length - (this.stored.get(e.id)?.record.data.length ?? 0);
    this.stored.set(e.id, structuredClone(e));
  }
}

/** Orders journal ids (fixed-width time then counter: plain string order). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

let lastMs = 0;
let counter = 0;
/**
 * A new journal id: the time in ms (13 digits), a counter within the ms and a random tail, so ids sort in the
 * order they were made within a process, and two processes never make the same one.
 */
export function newJournalId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  }
  const random = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
  return `${String(lastMs).padStart(13, '0')}-${String(counter++).padStart(6, '0')}-${random}`;
}

/** A record as a journal stores it. */
export function toJournalRecord(record: ReplayRecord, data: Uint8Array): JournalRecord {
  const out: JournalRecord = {
    partitionKey: record.partitionKey,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  };
  if (record.explicitHashKey !== undefined) out.explicitHashKey = record.explicitHashKey;
  if (record.sequenceNumber !== undefined) out.sequenceNumber = record.sequenceNumber;
  if (record.subSequenceNumber !== undefined) out.subSequenceNumber = record.subSequenceNumber;
  if (record.shardId !== undefined) out.shardId = record.shardId;
  if (record.approximateArrivalTimestamp instanceof Date)
    out.approximateArrivalTimestamp = record.approximateArrivalTimestamp.toISOString();
  return out;
}

/** A journaled record back as a {@link ReplayRecord}. */
export function fromJournalRecord(r: JournalRecord): ReplayRecord {
  const out: ReplayRecord = {
    partitionKey: r.partitionKey,
    data: new Uint8Array(Buffer.from(r.data, 'base64')),
  };
  if (r.explicitHashKey !== undefined) out.explicitHashKey = r.explicitHashKey;
  if (r.sequenceNumber !== undefined) out.sequenceNumber = r.sequenceNumber;
  if (r.subSequenceNumber !== undefined) out.subSequenceNumber = r.subSequenceNumber;
  if (r.shardId !== undefined) out.shardId = r.shardId;
  if (r.approximateArrivalTimestamp !== undefined)
    out.approximateArrivalTimestamp = new Date(r.approximateArrivalTimestamp);
  return out;
}

/** Checks that a value read from a journal is an entry (a hand-edited file, a foreign table). */
export function isJournalEntry(value: unknown): value is JournalEntry {
  const e = value as Partial<JournalEntry> | null;
  return (
    !!e &&
    typeof e.id === 'string' &&
    typeof e.unit === 'string' &&
    !!e.record &&
    typeof e.record.partitionKey === 'string' &&
    typeof e.record.data === 'string' &&
    !!e.error &&
    typeof e.error.code === 'string'
  );
}
