/**
 * A record to replay. Archived records (`ArchivedRecord` of `@kinesis-archive/archive`) fit; so does any object
 * with a partition key and bytes.
 */
export interface ReplayRecord {
  /** 1..256 Unicode characters. */
  partitionKey: string;
  /** The payload, sent byte for byte. A string is sent as its UTF-8 bytes. */
  data: Uint8Array | string;
  /** Kept on the replayed record: Kinesis routes it by this hash key. */
  explicitHashKey?: string | undefined;
  /** The archived sequence number (checkpoints and the envelope use it). */
  sequenceNumber?: string | undefined;
  /** The archived sub-sequence number (KPL user records). */
  subSequenceNumber?: number | undefined;
  /** The shard the record was archived from (envelope only). */
  shardId?: string | undefined;
  /** The original arrival time (envelope only). */
  approximateArrivalTimestamp?: Date | undefined;
}

/** Options {@link ArchiveReaderLike.scan} is called with (those of `ArchiveReader.scan`). */
export interface ArchiveScanOptions {
  /** Parallel-scan segment of this worker, `0 .. totalSegments-1`. */
  segment?: number | undefined;
  /** Number of parallel-scan segments. */
  totalSegments?: number | undefined;
  /** Only records that arrived at or after this time. */
  from?: Date | undefined;
  /** Only records that arrived before this time. */
  to?: Date | undefined;
  /** At most this many records in all. */
  limit?: number | undefined;
  /** Return tombstones (deletion markers, empty data) too. */
  includeTombstones?: boolean | undefined;
  /** Resume after this record (one the same scan, in the same segment, returned before). */
  startAfter?: { partitionKey: string; sequenceNumber: string; subSequenceNumber?: number } | undefined;
}

/** Options {@link ArchiveReaderLike.query} is called with (those of `ArchiveReader.query`): one key's history. */
export interface ArchiveQueryOptions {
  /** The key whose history is replayed. */
  partitionKey: string;
  /** Lowest sequence number (inclusive). */
  fromSequence?: string | undefined;
  /** Highest sequence number (inclusive). */
  toSequence?: string | undefined;
  /** Only records that arrived at or after this time. */
  from?: Date | undefined;
  /** Only records that arrived before this time. */
  to?: Date | undefined;
  /** At most this many records. */
  limit?: number | undefined;
  /** Return tombstones (deletion markers, empty data) too. */
  includeTombstones?: boolean | undefined;
  /** Resume after this record (one the same query returned before). */
  startAfter?: { sequenceNumber: string; subSequenceNumber?: number } | undefined;
}

/**
 * What `replay` recognises as an archive reader: an object with `scan` and `query` methods returning async
 * iterables of records, such as `ArchiveReader` of `@kinesis-archive/archive`.
 */
export interface ArchiveReaderLike {
  /** Reads the whole archive (or one segment of it). */
  scan(options?: ArchiveScanOptions): AsyncIterable<ReplayRecord>;
  /** Reads one key's history. */
  query(options: ArchiveQueryOptions): AsyncIterable<ReplayRecord>;
}

/** Where `replay` reads from: an archive reader or any (async) iterable of records. */
export type ReplaySource = ArchiveReaderLike | AsyncIterable<ReplayRecord> | Iterable<ReplayRecord>;

/** Who a record is (no payload). */
export interface RecordIdentity {
  partitionKey: string;
  sequenceNumber?: string | undefined;
  subSequenceNumber?: number | undefined;
}

/**
 * A record that could not be replayed, and why: an entry of the failure journal (which holds its payload; see
 * `FailureJournal`), without the payload.
 */
export interface ReplayFailure {
  /** The journal entry's id (`retryFailed` sends it again; `journal.remove([id])` clears it). */
  id: string;
  /** Who the record is. */
  record: RecordIdentity;
  /**
   * Why: a validation error (`INVALID_PARTITION_KEY`, `RECORD_TOO_LARGE`, ...), `PUT_RECORDS_FAILED` (rejected, or
   * retries used up) or `KEY_BLOCKED` (an earlier record of its key failed, see `onKeyFailure`).
   */
  error: { code: string; message: string; details?: Record<string, unknown> | undefined };
  /** With `KEY_BLOCKED`: the key whose earlier record failed. */
  blockedBy?: string | undefined;
}

/** The part of a Kinesis client the replay uses: a v3 `KinesisClient` fits. */
export interface KinesisClientLike {
  send(command: object): Promise<unknown>;
}
