import { hashKeyOf } from '@kinesis-archive/agg';
import { CheckpointMismatchError, InvalidReplayOptionError } from './errors.js';
import type { SourcePosition } from './journal.js';
import type {
  ArchiveQueryOptions,
  ArchiveReaderLike,
  ArchiveScanOptions,
  ReplayRecord,
  ReplaySource,
} from './types.js';

/** A unit's source opened at its cursor. */
export interface OpenedUnit {
  /** The records from just after the cursor (an iterable: from its start, see `position`). */
  records: AsyncIterable<ReplayRecord> | Iterable<ReplayRecord>;
  /** Where a record read is in the source, or `undefined` for one to skip (passed by the cursor, another segment). */
  position(record: ReplayRecord): SourcePosition | undefined;
  /** Called once the records ended. @throws {@link CheckpointMismatchError} when they ended before the cursor. */
  end(): void;
}

/**
 * One unit of work: a scan segment, a query, or an iterable. `open(after, limit)` reads the source from just
 * after `after` (the unit's cursor), asking it for at most `limit` records when the source can be told.
 */
export interface UnitSource {
  name: string;
  open(after: SourcePosition | undefined, limit: number | undefined): OpenedUnit;
  /** Records of the source skipped because the cursor had passed them (iterables only: the others seek). */
  skipped: number;
}

/** True for an object with `scan` and `query` methods (an `ArchiveReader`). */
export function isArchiveReader(source: unknown): source is ArchiveReaderLike {
  const s = source as Partial<ArchiveReaderLike> | null;
  return !!s && typeof s.scan === 'function' && typeof s.query === 'function';
}

/** The segment of a record of a plain iterable: MD5 hash key of its partition key modulo `totalSegments`. */
export function segmentOf(partitionKey: string, totalSegments: number): number {
  return Number(hashKeyOf(partitionKey) % BigInt(totalSegments));
}

/** The name of a scan segment's unit (the key of its cursor in a checkpoint). */
export function scanUnitName(segment: number, totalSegments: number): string {
  return `scan:${segment}/${totalSegments}`;
}

function archivePosition(record: ReplayRecord): SourcePosition {
  return {
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber ?? '',
    subSequenceNumber: record.subSequenceNumber ?? 0,
  };
}

function archiveAfter(after: SourcePosition | undefined, unit: string) {
  if (after === undefined) return undefined;
  if (!('sequenceNumber' in after) || 'index' in after || typeof after.sequenceNumber !== 'string') {
    throw new CheckpointMismatchError(
      `unit ${unit} reads an archive, the cursor is a position of an iterable`,
      {
        unit,
        after,
      },
    );
  }
  return after;
}

/** One segment (or the whole) of an archive scan. */
export function scanUnit(
  reader: ArchiveReaderLike,
  scan: Omit<ArchiveScanOptions, 'segment' | 'totalSegments' | 'startAfter' | 'limit'>,
  segment: number | undefined,
  totalSegments: number | undefined,
  keyPrefix?: string,
): UnitSource {
  const name = totalSegments === undefined ? 'scan' : scanUnitName(segment!, totalSegments);
  const position =
    keyPrefix === undefined
      ? archivePosition
      : (record: ReplayRecord) => (outsidePrefix(record, keyPrefix) ? undefined : archivePosition(record));
  return {
    name,
    skipped: 0,
    open(after, limit) {
      const options: ArchiveScanOptions = { ...scan };
      if (totalSegments !== undefined) {
        options.segment = segment;
        options.totalSegments = totalSegments;
      }
      if (limit !== undefined) options.limit = limit;
      const start = archiveAfter(after, name);
      if (start) {
        options.startAfter = {
          partitionKey: start.partitionKey,
          sequenceNumber: start.sequenceNumber,
          subSequenceNumber: start.subSequenceNumber,
        };
      }
      return { records: reader.scan(options), position, end: () => {} };
    },
  };
}

/** One key's history, read with a query (unit `query`, or `query:<key>` as one of a set of keys). */
export function queryUnit(reader: ArchiveReaderLike, query: ArchiveQueryOptions, name = 'query'): UnitSource {
  return {
    name,
    skipped: 0,
    open(after, limit) {
      const options: ArchiveQueryOptions = { ...query };
      if (limit !== undefined) options.limit = Math.min(limit, query.limit ?? limit);
      const start = archiveAfter(after, 'query');
      if (start) {
        if (start.partitionKey !== query.partitionKey) {
          throw new CheckpointMismatchError(
            `the cursor is in the history of ${JSON.stringify(start.partitionKey)}, the query reads ${JSON.stringify(query.partitionKey)}`,
          );
        }
        options.startAfter = {
          sequenceNumber: start.sequenceNumber,
          subSequenceNumber: start.subSequenceNumber,
        };
      }
      return { records: reader.query(options), position: archivePosition, end: () => {} };
    },
  };
}

/**
 * An (async) iterable, read from its start every time; its cursor is an index in read order, valid only for a
 * source that replays identically (the record at the cursor is checked). With `totalSegments`, only the records
 * whose key falls in `segment` are kept ({@link segmentOf}); a record without a valid key goes to segment 0, which
 * reports it as failed: exactly one worker sees it.
 */
export function iterableUnit(
  records: AsyncIterable<ReplayRecord> | Iterable<ReplayRecord>,
  segment: number | undefined,
  totalSegments: number | undefined,
  keyPrefix?: string,
): UnitSource {
  const split = totalSegments !== undefined && totalSegments > 1;
  const unit: UnitSource = {
    name: segment === undefined ? 'iterable' : `iterable:${segment}/${totalSegments}`,
    skipped: 0,
    open(after) {
      if (after !== undefined && !('index' in after)) {
        throw new CheckpointMismatchError(
          'the cursor is a position in an archive, the source is an iterable',
          {
            after,
          },
        );
      }
      const resumeAt = after?.index ?? -1;
      let index = -1;
      return {
        records,
        position(record) {
          index++;
          if (index <= resumeAt) {
            if (index === resumeAt) checkIdentity(after!, record, index);
            unit.skipped++;
            return undefined;
          }
          if (split && !inSegment(record, segment!, totalSegments!)) return undefined;
          if (keyPrefix !== undefined && outsidePrefix(record, keyPrefix)) return undefined;
          const position: SourcePosition = { index, partitionKey: String(record?.partitionKey) };
          if (record?.sequenceNumber !== undefined) position.sequenceNumber = record.sequenceNumber;
          if (record?.subSequenceNumber !== undefined) position.subSequenceNumber = record.subSequenceNumber;
          return position;
        },
        end() {
          if (index < resumeAt) {
            throw new CheckpointMismatchError(
              `the source ended after ${index + 1} records, before the cursor's position ${resumeAt}`,
              { index: resumeAt },
            );
          }
        },
      };
    },
  };
  return unit;
}

/**
 * True for a record to skip under `keyPrefix`: its key is a string without the prefix. A record whose key is not
 * a string is kept, so that it is reported as failed rather than dropped.
 */
function outsidePrefix(record: ReplayRecord, keyPrefix: string): boolean {
  return typeof record?.partitionKey === 'string' && !record.partitionKey.startsWith(keyPrefix);
}

/** Checks a `keyPrefix` option. @throws {@link InvalidReplayOptionError} unless it is a non-empty string. */
export function checkKeyPrefix(keyPrefix: unknown): void {
  if (keyPrefix !== undefined && (typeof keyPrefix !== 'string' || keyPrefix.length === 0)) {
    throw new InvalidReplayOptionError('keyPrefix', keyPrefix, 'a non-empty string');
  }
}

function inSegment(record: ReplayRecord, segment: number, totalSegments: number): boolean {
  return typeof record?.partitionKey === 'string' && record.partitionKey.length > 0
    ? segmentOf(record.partitionKey, totalSegments) === segment
    : segment === 0;
}

function checkIdentity(after: SourcePosition & { index: number }, record: ReplayRecord, index: number): void {
  const same =
    record?.partitionKey === after.partitionKey &&
    record?.sequenceNumber === after.sequenceNumber &&
    (record?.subSequenceNumber ?? 0) === (after.subSequenceNumber ?? 0);
  if (!same) {
    throw new CheckpointMismatchError(
      `the record at position ${index} is not the one the cursor saw (the source does not replay identically)`,
      {
        index,
        expected: { partitionKey: after.partitionKey, sequenceNumber: after.sequenceNumber },
        found: { partitionKey: record?.partitionKey, sequenceNumber: record?.sequenceNumber },
      },
    );
  }
}

/** How to read a source: the reader options, and the segments. */
export interface SourceOptions {
  /** With an archive reader: read one key's history with `query` instead of a scan. */
  query?: ArchiveQueryOptions | undefined;
  /**
   * With an archive reader: the scan's options (time range, `includeTombstones`: deletions replay as records
   * with empty data). Its `limit` counts over every segment, as the replay's `limit` does.
   */
  scan?: Omit<ArchiveScanOptions, 'segment' | 'totalSegments' | 'startAfter'> | undefined;
  /**
   * With an archive reader: replay the history of each of these keys, one query (and one cursor, unit
   * `query:<key>`) per key, run `segmentConcurrency` at a time. The `scan` options' time range and
   * `includeTombstones` apply; not with `query` or segments.
   */
  keys?: readonly string[] | undefined;
  /**
   * Replay only the records whose partition key starts with this prefix. An archive is scanned and the other
   * records skipped (read, not sent, not counted); a record whose key is not a string is kept, so it is reported
   * as failed rather than dropped.
   */
  keyPrefix?: string | undefined;
  /** This worker's segment, `0 .. totalSegments-1`. Without it (archive scans), every segment runs here. */
  segment?: number | undefined;
  /** Number of segments the source is split into. */
  totalSegments?: number | undefined;
}

/**
 * The units of work of a source. An archive reader: `query` when given; else a scan, one unit per segment (all
 * of them, or only `segment`). Any other (async) iterable: one unit (with `totalSegments`, this worker's share).
 *
 * @throws {@link InvalidReplayOptionError} for bad segment options or reader options on a plain iterable.
 */
export function planUnits(source: ReplaySource, options: SourceOptions): UnitSource[] {
  const { segment, totalSegments } = options;
  if (totalSegments !== undefined && (!Number.isInteger(totalSegments) || totalSegments < 1)) {
    throw new InvalidReplayOptionError('totalSegments', totalSegments, 'an integer >= 1');
  }
  if (segment !== undefined) {
    if (totalSegments === undefined) {
      throw new InvalidReplayOptionError('totalSegments', totalSegments, 'an integer >= 1 (with segment)');
    }
    if (!Number.isInteger(segment) || segment < 0 || segment >= totalSegments) {
      throw new InvalidReplayOptionError('segment', segment, `an integer in 0..${totalSegments - 1}`);
    }
  }
  const { keys, keyPrefix } = options;
  checkKeyPrefix(keyPrefix);
  if (keys !== undefined) {
    if (!isArchiveReader(source)) {
      throw new InvalidReplayOptionError('keys', 'given', 'an ArchiveReader source (scan and query methods)');
    }
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string' || k.length === 0)) {
      throw new InvalidReplayOptionError('keys', keys, 'an array of non-empty partition keys');
    }
    if (options.query || totalSegments !== undefined || keyPrefix !== undefined) {
      throw new InvalidReplayOptionError('keys', 'given', 'not with query, segments or keyPrefix');
    }
    const { from, to, includeTombstones } = { ...options.scan };
    return [...new Set(keys)].map((partitionKey) =>
      queryUnit(source, { partitionKey, from, to, includeTombstones }, `query:${partitionKey}`),
    );
  }
  if (isArchiveReader(source)) {
    if (options.query) {
      if (keyPrefix !== undefined) {
        throw new InvalidReplayOptionError('keyPrefix', keyPrefix, 'not with query (one key)');
      }
      if (totalSegments !== undefined) {
        throw new InvalidReplayOptionError('segment', segment, 'no segments with query (one key)');
      }
      return [queryUnit(source, options.query)];
    }
    // the replay's `limit` counts over all segments; a scan limit would count per segment
    const { limit: _perSegment, ...scan } = { ...options.scan } as ArchiveScanOptions;
    if (totalSegments === undefined) return [scanUnit(source, scan, undefined, undefined, keyPrefix)];
    if (segment !== undefined) return [scanUnit(source, scan, segment, totalSegments, keyPrefix)];
    return Array.from({ length: totalSegments }, (_, s) =>
      scanUnit(source, scan, s, totalSegments, keyPrefix),
    );
  }
  if (options.query || options.scan) {
    throw new InvalidReplayOptionError(
      'query/scan',
      'given',
      'an ArchiveReader source (scan and query methods)',
    );
  }
  const records = source as AsyncIterable<ReplayRecord> | Iterable<ReplayRecord>;
  const iterable =
    records &&
    (typeof (records as AsyncIterable<ReplayRecord>)[Symbol.asyncIterator] === 'function' ||
      typeof (records as Iterable<ReplayRecord>)[Symbol.iterator] === 'function');
  if (!iterable) {
    throw new InvalidReplayOptionError(
      'source',
      typeof source,
      'an ArchiveReader or an (async) iterable of records',
    );
  }
  if (totalSegments !== undefined && totalSegments > 1 && segment === undefined) {
    throw new InvalidReplayOptionError(
      'segment',
      undefined,
      "this worker's segment (an iterable is read whole by each worker, which keeps its share)",
    );
  }
  return [iterableUnit(records, segment, totalSegments, keyPrefix)];
}
