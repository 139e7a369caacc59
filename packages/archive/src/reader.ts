import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import { type BackoffOptions, encodeSequenceKey, type RecordPosition, retry } from '@kinesis-archive/core';
import { isDeletion, newestPerKey } from './as-of.js';
import { readChunks } from './chunk-read.js';
import {
  ArchiveTableNotFoundError,
  CorruptArchiveItemError,
  InvalidArchiveOptionError,
  isResourceNotFound,
} from './errors.js';
import { chunkInfoOf, decodeHead, headKey, type Item } from './item-codec.js';
import { readQuarantine } from './quarantine.js';
import type { QuarantinedRecord } from './quarantine-codec.js';
import {
  buildFilter,
  checkLimit,
  checkPageSize,
  type Filter,
  nowSeconds,
  type ReadFilterOptions,
} from './read-filter.js';
import type { ArchivedRecord, ArchiveMode } from './types.js';

/** Options of {@link ArchiveReader}. */
export interface ArchiveReaderOptions {
  /** Your configured DynamoDB client. */
  dynamodb: DynamoDBClient;
  /** The archive table. */
  tableName: string;
  /** The mode the table was written in. */
  mode: ArchiveMode;
  /** Strongly consistent reads (not available on global secondary indexes; costs twice). Default false. */
  consistentRead?: boolean;
  /** Backoff for throttled reads. Default: 8 attempts within 30 s. */
  retry?: BackoffOptions;
  /** The writer's quarantine table, when it has one of its own (`quarantine: { tableName }`). */
  quarantine?: { tableName: string };
}

/**
 * What a read does with an archived item it cannot read back (a missing chunk, a bad checksum, bad attributes):
 * `'throw'` a {@link CorruptArchiveItemError} (the default of `get` and `query`), or `'report'` it and go on (the
 * default of `scan`, which feeds replays and exports). A reported item is passed to `onCorruptItem`, or emitted as
 * a process warning when there is none: it is never skipped silently.
 */
export interface CorruptItemOptions {
  onCorrupt?: 'throw' | 'report';
  /** Called for each corrupt item under `onCorrupt: 'report'`. */
  onCorruptItem?: (error: CorruptArchiveItemError) => void;
}

/** Options of {@link ArchiveReader.get}. */
export interface GetOptions extends CorruptItemOptions {
  /** Return a tombstone (as a record with `tombstone: true`) instead of `undefined`. */
  includeTombstones?: boolean;
}

/** Options of {@link ArchiveReader.query}. */
export interface QueryOptions extends ReadFilterOptions, CorruptItemOptions {
  /** The key whose history is read. */
  partitionKey: string;
  /** First sequence number (inclusive). */
  fromSequence?: string;
  /** Last sequence number (inclusive, all of its sub-records). */
  toSequence?: string;
  /** Most records returned in all (not a page size). Each request asks DynamoDB for no more than are left. */
  limit?: number;
  /** Most items DynamoDB evaluates per request (its `Limit`). Default: as many as fit in 1 MB. */
  pageSize?: number;
  /** `'asc'` (default, oldest first) or `'desc'`. */
  order?: 'asc' | 'desc';
  /** Resume after this record (one the same query returned before). */
  startAfter?: RecordPosition;
}

/** Options of {@link ArchiveReader.asOf}. */
export interface AsOfOptions extends CorruptItemOptions {
  /** Only this key (one Query) instead of the whole archive. */
  partitionKey?: string;
  /** This worker's segment of a parallel scan, 0-based (with `totalSegments`). */
  segment?: number;
  totalSegments?: number;
  /**
   * A record with empty data deletes its key (as the writer's `tombstones` option means it): a key whose newest
   * record as of the time is empty is left out. Tombstone markers always delete their key. Default false.
   */
  tombstones?: boolean;
  /** Most keys returned. */
  limit?: number;
  /** Most items DynamoDB evaluates per request (its `Limit`). */
  pageSize?: number;
}

/** One page request: from `key` (undefined: the start), at most `pageLimit` items, filtered at `nowSeconds`. */
type PageFn = (
  key: Item | undefined,
  pageLimit: number | undefined,
  nowSeconds: number,
) => Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>;

/** A position to resume a scan from: a record the scan (same segment) returned before. */
export interface ScanCursor {
  /** The record's partition key. */
  partitionKey: string;
  /** The record's sequence number. */
  sequenceNumber: string;
  /** The record's sub-sequence number (default 0). */
  subSequenceNumber?: number;
}

/** Options of {@link ArchiveReader.scan}. */
export interface ScanOptions extends ReadFilterOptions, CorruptItemOptions {
  /** This worker's segment, 0-based (with `totalSegments`). */
  segment?: number;
  /** Number of parallel-scan segments the work is split into. */
  totalSegments?: number;
  /** Most records returned in all (not a page size). Each request asks DynamoDB for no more than are left. */
  limit?: number;
  /** Most items DynamoDB evaluates per request (its `Limit`). Default: as many as fit in 1 MB. */
  pageSize?: number;
  /** Resume after this record (one this scan, in the same segment, returned before). */
  startAfter?: ScanCursor;
}

const MAX_SUB = 4_294_967_295;
/** Above every sequence key (fixed-width digits): `(key, AFTER_ALL)` sorts after all of a key's items. */
const AFTER_ALL = '~';

/** The ExclusiveStartKey that resumes a scan of an ALL archive after the whole history of `partitionKey`. */
function afterWholeKey(partitionKey: string): Item {
  return { partitionKey: { S: partitionKey }, sequenceKey: { S: AFTER_ALL } };
}
const HIGHEST_SEQUENCE = '9'.repeat(129);

/**
 * Reads an archive table: the latest record of a key, a key's history, or the whole archive (in parallel
 * segments). Chunked records come back whole; expired items (past `expireAfter`) never come back; tombstones only
 * on request.
 *
 * @example
 * ```ts
 * const reader = new ArchiveReader({ dynamodb, tableName: 'orders-archive-ALL', mode: 'ALL' });
 * for await (const record of reader.query({ partitionKey: 'order-1' })) console.log(record.sequenceNumber);
 * ```
 */
export class ArchiveReader {
  private readonly options: ArchiveReaderOptions;

  constructor(options: ArchiveReaderOptions) {
    if (options.mode !== 'ALL' && options.mode !== 'LATEST') {
      throw new InvalidArchiveOptionError('mode', options.mode, "'ALL' or 'LATEST'");
    }
    this.options = options;
  }

  /** The table this reader reads. */
  get tableName(): string {
    return this.options.tableName;
  }

  /** The mode the table was written in. */
  get mode(): ArchiveMode {
    return this.options.mode;
  }

  /**
   * The latest record of `partitionKey` (either mode), or `undefined` when there is none, it expired, or it is a
   * tombstone (unless `includeTombstones`).
   *
   * @throws {@link ArchiveTableNotFoundError} when the table does not exist.
   */
  async get(partitionKey: string, options: GetOptions = {}): Promise<ArchivedRecord | undefined> {
    if (this.options.mode === 'ALL') {
      for await (const record of this.query({ partitionKey, order: 'desc', limit: 1, ...options }))
        return record;
      return undefined;
    }
    const filter = buildFilter(options);
    const now = nowSeconds();
    const item = await this.getItem(partitionKey, this.options.consistentRead ?? false);
    if (!item || !filter.accepts(item, now)) return undefined;
    return this.resolveOrReport(item, filter, now, options, 'throw');
  }

  /**
   * A key's records in order (ALL mode; in LATEST mode, at most its one record), as an async iterable that pages
   * through DynamoDB as it is consumed.
   */
  async *query(options: QueryOptions): AsyncGenerator<ArchivedRecord> {
    const limit = checkLimit(options.limit);
    const filter = buildFilter(options);
    if (typeof options.partitionKey !== 'string' || options.partitionKey.length === 0) {
      throw new InvalidArchiveOptionError('partitionKey', options.partitionKey, 'a non-empty string');
    }
    const pageSize = checkPageSize(options.pageSize);
    if (this.options.mode === 'LATEST') {
      const now = nowSeconds();
      const item = await this.getItem(options.partitionKey, this.options.consistentRead ?? false);
      if (!item || !filter.accepts(item, now)) return;
      const seq = item.sequenceNumber?.S ?? '';
      const lo = options.fromSequence === undefined ? '' : encodeSequenceKey(options.fromSequence, 0);
      const hi = encodeSequenceKey(options.toSequence ?? HIGHEST_SEQUENCE, MAX_SUB);
      const key = item.sequenceKey?.S ?? seq;
      const after = options.startAfter
        ? encodeSequenceKey(options.startAfter.sequenceNumber, options.startAfter.subSequenceNumber ?? 0)
        : undefined;
      if (key < lo || key > hi || (after !== undefined && key <= after)) return;
      const record = await this.resolveOrReport(item, filter, now, options, 'throw');
      if (record) yield record;
      return;
    }
    const lo = encodeSequenceKey(options.fromSequence ?? '0', 0);
    const hi = encodeSequenceKey(options.toSequence ?? HIGHEST_SEQUENCE, MAX_SUB);
    const keyValues = {
      ':pk': { S: options.partitionKey },
      ':lo': { S: lo },
      ':hi': { S: hi },
    };
    const input: QueryCommandInput = {
      TableName: this.options.tableName,
      KeyConditionExpression: 'partitionKey = :pk AND sequenceKey BETWEEN :lo AND :hi',
      FilterExpression: filter.expression,
      ScanIndexForward: options.order !== 'desc',
      ConsistentRead: this.options.consistentRead ?? false,
    };
    if (options.startAfter) {
      input.ExclusiveStartKey = headKey(
        'ALL',
        options.partitionKey,
        encodeSequenceKey(options.startAfter.sequenceNumber, options.startAfter.subSequenceNumber ?? 0),
      );
    }
    yield* this.collect(this.queryPage(input, filter, keyValues), input, filter, {
      limit,
      pageSize,
      corrupt: options,
      defaultPolicy: 'throw',
    });
  }

  /** One page request of a Query: from `key`, at most `pageLimit` items, filtered at `now`. */
  private queryPage(
    input: QueryCommandInput,
    filter: Filter,
    keyValues: Record<string, AttributeValue>,
  ): PageFn {
    return (key, pageLimit, now) =>
      this.call((d) =>
        d.send(
          new QueryCommand({
            ...input,
            ExpressionAttributeValues: { ...filter.values(now), ...keyValues },
            ExclusiveStartKey: key,
            ...(pageLimit === undefined ? {} : { Limit: pageLimit }),
          }),
        ),
      );
  }

  /** One page request of a Scan: from `key`, at most `pageLimit` items, filtered at `now`. */
  private scanPage(input: ScanCommandInput, filter: Filter): PageFn {
    return (key, pageLimit, now) =>
      this.call((d) =>
        d.send(
          new ScanCommand({
            ...input,
            ExpressionAttributeValues: filter.values(now),
            ExclusiveStartKey: key,
            ...(pageLimit === undefined ? {} : { Limit: pageLimit }),
          }),
        ),
      );
  }

  /** A Scan's input: the table, the filter, the segment (checked). */
  private scanInput(filter: Filter, options: { segment?: number; totalSegments?: number }): ScanCommandInput {
    const { segment, totalSegments } = options;
    if ((segment === undefined) !== (totalSegments === undefined)) {
      throw new InvalidArchiveOptionError(
        'segment',
        { segment, totalSegments },
        'segment and totalSegments together',
      );
    }
    if (
      totalSegments !== undefined &&
      (!Number.isInteger(totalSegments) ||
        totalSegments < 1 ||
        totalSegments > 1_000_000 ||
        !Number.isInteger(segment) ||
        segment! < 0 ||
        segment! >= totalSegments)
    ) {
      throw new InvalidArchiveOptionError(
        'segment',
        { segment, totalSegments },
        '0 <= segment < totalSegments',
      );
    }
    return {
      TableName: this.options.tableName,
      FilterExpression: filter.expression,
      ConsistentRead: this.options.consistentRead ?? false,
      ...(totalSegments !== undefined ? { Segment: segment, TotalSegments: totalSegments } : {}),
    };
  }

  /**
   * The whole archive (or one parallel-scan segment of it), as an async iterable. Records come in DynamoDB's
   * order (by key hash), not in stream order.
   */
  async *scan(options: ScanOptions = {}): AsyncGenerator<ArchivedRecord> {
    const limit = checkLimit(options.limit);
    const pageSize = checkPageSize(options.pageSize);
    const filter = buildFilter(options);
    const input = this.scanInput(filter, options);
    if (options.startAfter) {
      const { partitionKey, sequenceNumber, subSequenceNumber } = options.startAfter;
      input.ExclusiveStartKey = headKey(
        this.options.mode,
        partitionKey,
        encodeSequenceKey(sequenceNumber, subSequenceNumber ?? 0),
      );
    }
    yield* this.collect(this.scanPage(input, filter), input, filter, {
      limit,
      pageSize,
      corrupt: options,
      defaultPolicy: 'report',
    });
  }

  /**
   * Pages through a Query or Scan. Each request asks for at most the records still wanted (`Limit`; DynamoDB
   * applies it before the filter, so a page can hold fewer and the next page goes on), and filters with the time
   * of that request.
   */
  /**
   * The records the writer quarantined (they could never be archived: malformed, oversized, a reserved key),
   * byte-exact, with their Kinesis metadata and the error. In a LATEST archive without a quarantine table of its
   * own this scans the table (filtered on the reserved keys); elsewhere it is one Query.
   *
   * @example
   * ```ts
   * for await (const q of reader.quarantine()) console.log(q.id, q.error.code, q.partitionKey, q.data.byteLength);
   * ```
   */
  async *quarantine(options: { limit?: number } = {}): AsyncGenerator<QuarantinedRecord> {
    const limit = checkLimit(options.limit);
    const own = this.options.quarantine?.tableName;
    yield* readQuarantine(
      {
        dynamodb: this.options.dynamodb,
        place: own
          ? { tableName: own, mode: 'ALL' }
          : { tableName: this.options.tableName, mode: this.options.mode },
        backoff: this.options.retry ?? {},
        consistentRead: this.options.consistentRead ?? false,
      },
      limit,
    );
  }

  private async *collect(
    page: PageFn,
    input: { ExclusiveStartKey?: Item | undefined },
    filter: Filter,
    how: {
      limit: number;
      pageSize: number;
      corrupt: CorruptItemOptions;
      defaultPolicy: 'throw' | 'report';
    },
  ): AsyncGenerator<ArchivedRecord> {
    let count = 0;
    for await (const { item, now } of this.items(page, input, filter, () =>
      Math.min(how.limit - count, how.pageSize),
    )) {
      const record = await this.resolveOrReport(item, filter, now, how.corrupt, how.defaultPolicy);
      if (!record) continue;
      yield record;
      if (++count >= how.limit) return;
    }
  }

  /** The items a Query or Scan returns that pass the filter, each with the time of its page's request. */
  private async *items(
    page: PageFn,
    input: { ExclusiveStartKey?: Item | undefined },
    filter: Filter,
    wanted: () => number,
  ): AsyncGenerator<{ item: Item; now: number }> {
    let key = input.ExclusiveStartKey;
    do {
      const limit = wanted();
      const now = nowSeconds();
      const out = await page(key, Number.isFinite(limit) ? limit : undefined, now);
      for (const item of out.Items ?? []) if (filter.accepts(item, now)) yield { item, now };
      // Passed back verbatim: DynamoDB's key, not one rebuilt from the last item.
      key = out.LastEvaluatedKey;
    } while (key !== undefined);
  }

  /**
   * The state of every key as of `time`, from an ALL archive: for each key, its newest record that arrived at or
   * before `time`, and nothing for a key whose newest such record deletes it (a tombstone; with `tombstones`, a
   * record with empty data) or that had none. "Arrived" is the record's `approximateArrivalTimestamp` as
   * Kinesis set it (stored at write time; the write time when the input had none); when two records of a key
   * arrived in the same millisecond, the later position (sequence number, then sub-sequence number) is the newer.
   * Items past their TTL are left out, as in every read.
   *
   * One pass over a scan (or one parallel-scan segment): each key's history comes together in a segment, so only
   * one key's newest version is held at a time. With `partitionKey`, one Query of that key.
   *
   * @example
   * ```ts
   * for await (const order of reader.asOf(new Date('2026-11-24T09:00:00Z'), { tombstones: true })) console.log(order.partitionKey);
   * ```
   * @throws {@link InvalidArchiveOptionError} for a LATEST archive (it keeps only each key's last record) or an
   *   invalid time.
   */
  async *asOf(time: Date | number, options: AsOfOptions = {}): AsyncGenerator<ArchivedRecord> {
    const t = time instanceof Date ? time.getTime() : time;
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new InvalidArchiveOptionError('time', time, 'a valid Date or epoch milliseconds');
    }
    const limit = checkLimit(options.limit);
    let count = 0;
    for await (const state of this.keyStates({ ...options, time: t })) {
      if (!state.record || state.deletion) continue;
      yield state.record;
      if (++count >= limit) return;
    }
  }

  /**
   * @internal Each key of an ALL archive once, in scan order (or the one key of `partitionKey`), with its newest
   * version: as of `time` (see {@link asOf}), or without a time the one of highest position, as a LATEST archive
   * keeps it. `deletion`: that version deletes the key (a tombstone; with `tombstones`, empty data). `afterKey`
   * resumes after a key (its whole history) of the same segment. What `asOf` and compaction are built on.
   */
  async *keyStates(
    options: Omit<AsOfOptions, 'limit'> & { time?: number | undefined; afterKey?: string | undefined },
  ): AsyncGenerator<{ partitionKey: string; record: ArchivedRecord | undefined; deletion: boolean }> {
    if (this.options.mode !== 'ALL') {
      throw new InvalidArchiveOptionError(
        'mode',
        this.options.mode,
        "'ALL': a LATEST archive has no history",
      );
    }
    const t = options.time;
    const pageSize = checkPageSize(options.pageSize);
    const filter = buildFilter({
      includeTombstones: true,
      ...(t === undefined ? {} : { to: new Date(Math.floor(t) + 1) }),
    });
    let source: AsyncIterable<{ item: Item; now: number }>;
    if (options.partitionKey !== undefined) {
      if (typeof options.partitionKey !== 'string' || options.partitionKey.length === 0) {
        throw new InvalidArchiveOptionError('partitionKey', options.partitionKey, 'a non-empty string');
      }
      const keyValues = { ':pk': { S: options.partitionKey } };
      const input: QueryCommandInput = {
        TableName: this.options.tableName,
        KeyConditionExpression: 'partitionKey = :pk',
        FilterExpression: filter.expression,
        ConsistentRead: this.options.consistentRead ?? false,
      };
      source = this.items(this.queryPage(input, filter, keyValues), input, filter, () => pageSize);
    } else {
      const input = this.scanInput(filter, options);
      // after the whole history of a key: a sort key above every sequence key
      if (options.afterKey !== undefined) input.ExclusiveStartKey = afterWholeKey(options.afterKey);
      source = this.items(this.scanPage(input, filter), input, filter, () => pageSize);
    }
    const times = new WeakMap<Item, number>();
    async function* itemsOf(): AsyncGenerator<Item> {
      for await (const { item, now } of source) {
        times.set(item, now);
        yield item;
      }
    }
    const tombstones = options.tombstones ?? false;
    for await (const { partitionKey, best } of newestPerKey(itemsOf(), t)) {
      if (best === undefined) {
        yield { partitionKey, record: undefined, deletion: false };
        continue;
      }
      const deletion = isDeletion(best, tombstones);
      const record = await this.resolveOrReport(
        best,
        filter,
        times.get(best) ?? nowSeconds(),
        options,
        options.partitionKey !== undefined ? 'throw' : 'report',
      );
      yield { partitionKey, record, deletion };
    }
  }

  /** {@link resolve}, with the read's policy for an item it cannot read back. */
  private async resolveOrReport(
    item: Item,
    filter: Filter,
    now: number,
    options: CorruptItemOptions,
    defaultPolicy: 'throw' | 'report',
  ): Promise<ArchivedRecord | undefined> {
    try {
      return await this.resolve(item, filter, now);
    } catch (error) {
      if (!(error instanceof CorruptArchiveItemError) || (options.onCorrupt ?? defaultPolicy) === 'throw') {
        throw error;
      }
      if (options.onCorruptItem) options.onCorruptItem(error);
      else process.emitWarning(error.message, { code: error.code, detail: JSON.stringify(error.details) });
      return undefined;
    }
  }

  private async call<T>(fn: (dynamodb: DynamoDBClient) => Promise<T>): Promise<T> {
    try {
      return await retry(() => fn(this.options.dynamodb), this.options.retry);
    } catch (error) {
      const inner = (error as { cause?: unknown }).cause ?? error;
      if (isResourceNotFound(error) || isResourceNotFound(inner)) {
        throw new ArchiveTableNotFoundError(this.options.tableName, error);
      }
      throw error;
    }
  }

  private async getItem(partitionKey: string, consistent: boolean): Promise<Item | undefined> {
    const out = await this.call((dynamodb) =>
      dynamodb.send(
        new GetItemCommand({
          TableName: this.options.tableName,
          Key: headKey('LATEST', partitionKey, ''),
          ConsistentRead: consistent,
        }),
      ),
    );
    return out.Item;
  }

  /** Decodes a head item, fetching its chunks when it has some. */
  private async resolve(
    item: Item,
    filter: Filter,
    now: number,
    attempt = 0,
  ): Promise<ArchivedRecord | undefined> {
    const record = decodeHead(item);
    const info = chunkInfoOf(item);
    if (!info) return record;
    const head = { partitionKey: record.partitionKey, sequenceKey: item.sequenceKey?.S ?? '' };
    const { dynamodb, tableName, mode } = this.options;
    const data = await readChunks(dynamodb, tableName, mode, head, info, this.options.retry ?? {});
    if (data) return { ...record, data };
    // Chunks gone: in LATEST the record was replaced (its chunks deleted) while we read; read the key again.
    if (mode === 'LATEST' && attempt < 3) {
      const fresh = await this.getItem(record.partitionKey, true);
      if (!fresh || !filter.accepts(fresh, now)) return undefined;
      if (fresh.sequenceKey?.S !== head.sequenceKey) return this.resolve(fresh, filter, now, attempt + 1);
    }
    if (filter.accepts(item, nowSeconds())) throw new CorruptArchiveItemError('chunks are missing', head);
    return undefined;
  }
}
