import { hashKeyOf } from '@kinesis-archive/agg';
import { InvalidReplayOptionError } from './errors.js';
import type {
  ArchiveQueryOptions,
  ArchiveReaderLike,
  ArchiveScanOptions,
  ReplayRecord,
  ReplaySource,
} from './types.js';

/** True for an object with `scan` and `query` methods (an `ArchiveReader`). */
export function isArchiveReader(source: unknown): source is ArchiveReaderLike {
  const s = source as Partial<ArchiveReaderLike> | null;
  return !!s && typeof s.scan === 'function' && typeof s.query === 'function';
}

/** How to read a source: the reader options, and the segment to keep of a plain iterable. */
export interface SourceOptions {
  query?: ArchiveQueryOptions | undefined;
  scan?: Omit<ArchiveScanOptions, 'segment' | 'totalSegments'> | undefined;
  segment?: number | undefined;
  totalSegments?: number | undefined;
}

/** An opened source: the records, and the filter a plain iterable needs to keep one segment. */
export interface OpenedSource {
  records: AsyncIterable<ReplayRecord> | Iterable<ReplayRecord>;
  /** `false` for a record of another segment (plain iterables only). */
  inSegment: (record: ReplayRecord) => boolean;
}

/** The segment of a record of a plain iterable: MD5 hash key of its partition key modulo `totalSegments`. */
export function segmentOf(partitionKey: string, totalSegments: number): number {
  return Number(hashKeyOf(partitionKey) % BigInt(totalSegments));
}

/**
 * Opens a source. An archive reader is read with `query(options.query)` when given, else with
 * `scan({ ...options.scan, segment, totalSegments })`. Any other (async) iterable is read as it is; with
 * `totalSegments`, only the records whose partition key falls in `segment` are kept (see {@link segmentOf}).
 *
 * @throws {@link InvalidReplayOptionError} for bad segment options or reader options on a plain iterable.
 */
export function openSource(source: ReplaySource, options: SourceOptions): OpenedSource {
  const { segment, totalSegments } = options;
  if (segment !== undefined || totalSegments !== undefined) {
    if (!Number.isInteger(totalSegments) || (totalSegments as number) < 1) {
      throw new InvalidReplayOptionError('totalSegments', totalSegments, 'an integer >= 1 (with segment)');
    }
    if (
      !Number.isInteger(segment) ||
      (segment as number) < 0 ||
      (segment as number) >= (totalSegments as number)
    ) {
      throw new InvalidReplayOptionError(
        'segment',
        segment,
        `an integer in 0..${(totalSegments as number) - 1}`,
      );
    }
  }
  if (isArchiveReader(source)) {
    if (options.query) {
      if (totalSegments !== undefined) {
        throw new InvalidReplayOptionError('segment', segment, 'no segments with query (one key)');
      }
      return { records: source.query(options.query), inSegment: () => true };
    }
    const scan: ArchiveScanOptions = { ...options.scan };
    if (totalSegments !== undefined) {
      scan.segment = segment;
      scan.totalSegments = totalSegments;
    }
    return { records: source.scan(scan), inSegment: () => true };
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
  if (totalSegments === undefined || totalSegments === 1) return { records, inSegment: () => true };
  return {
    records,
    // A record without a valid key is kept by segment 0, which reports it as failed: exactly one worker sees it.
    inSegment: (record) =>
      typeof record?.partitionKey === 'string' && record.partitionKey.length > 0
        ? segmentOf(record.partitionKey, totalSegments) === segment
        : segment === 0,
  };
}
