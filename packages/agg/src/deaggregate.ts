import type { GetRecordsRecord, KinesisEventPayload, KinesisEventRecord } from '@kinesis-archive/core';
import { shardIdOfEvent } from '@kinesis-archive/core';
import protobuf from 'protobufjs/minimal.js';
import { AGGREGATE_OVERHEAD, CHECKSUM_LENGTH, MAGIC } from './constants.js';
import { InvalidAggregateError, type InvalidAggregateReason, InvalidOptionError } from './errors.js';
import { readUInt128BE, toHashKey } from './hash.js';
import { md5 } from './md5.js';

const { Reader } = protobuf;

// Module-local copies of the constants read per record (plain local reads on the hot path).
const MAGIC_LENGTH = MAGIC.length;
const [MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3] = MAGIC as unknown as [number, number, number, number];

/** A record as a consumer gets it from its own code: bytes, the partition key and (optionally) the position. */
export interface RecordInput {
  data: Uint8Array;
  partitionKey: string;
  sequenceNumber?: string | undefined;
  /** A `Date`, or epoch seconds as Lambda gives them. */
  approximateArrivalTimestamp?: Date | number | undefined;
  explicitHashKey?: string | undefined;
  shardId?: string | undefined;
}

/**
 * What {@link deaggregate} accepts: a Lambda Kinesis event record (`event.Records[i]`), its `.kinesis` payload
 * (base64 `data`), an AWS SDK v3 `GetRecords` record, or a plain {@link RecordInput}.
 */
export type DeaggregateInput = KinesisEventRecord | KinesisEventPayload | GetRecordsRecord | RecordInput;

/** A user record out of {@link deaggregate}. */
export interface DeaggregatedRecord {
  /** The user record's partition key (the outer one for a plain record). */
  partitionKey: string;
  /** The user record's explicit hash key, when its producer gave one. */
  explicitHashKey?: string | undefined;
  /** The payload: a view into the input's bytes (no copy). */
  data: Uint8Array;
  /** The outer Kinesis record's sequence number. */
  sequenceNumber?: string | undefined;
  /** Index in the aggregate; 0 for a plain record. `(sequenceNumber, subSequenceNumber)` orders user records. */
  subSequenceNumber: number;
  /** Whether the record came out of a KPL aggregate. */
  aggregated: boolean;
  /** The outer record's arrival time (shared by the user records of one aggregate). */
  approximateArrivalTimestamp?: Date | undefined;
  /** The shard, from a Lambda `eventID` or the `shardId` option. */
  shardId?: string | undefined;
  /**
   * Set (true) on a user record whose hash key lies outside the `hashKeyRange` option: it belongs to another
   * shard (written before a reshard). It is still returned; see {@link DeaggregateOptions.onOutOfRange}.
   */
  outOfRange?: boolean | undefined;
}

/** An inclusive range of hash keys, e.g. a shard's `HashKeyRange`. */
export interface HashKeyRange {
  startingHashKey: bigint | string;
  endingHashKey: bigint | string;
}

/** Options of {@link deaggregate}. */
export interface DeaggregateOptions {
  /** Verify the aggregate's MD5. Default `true`. */
  verifyChecksum?: boolean | undefined;
  /**
   * What to do with input that is not a valid aggregate (no magic, too short, bad MD5, bad protobuf, a key
   * index out of range, no records):
   * - `'passthrough'` (default, the KCL's behaviour): return it as one plain record, `aggregated: false`;
   * - `'throw'`: throw {@link InvalidAggregateError} for all of them, plain (no magic) records included;
   * - `'throw-corrupt'`: plain records (no magic) pass through; records with the magic that are not valid
   *   aggregates throw.
   */
  onInvalid?: 'passthrough' | 'throw' | 'throw-corrupt' | undefined;
  /**
   * The consumer shard's hash key range. User records of an aggregate whose hash key is outside it are still
   * returned, flagged `outOfRange: true`, and passed to `onOutOfRange`. (The KCL drops the whole aggregate.)
   * Plain records are not checked: Kinesis routed them itself.
   */
  hashKeyRange?: HashKeyRange | undefined;
  /** Called for each user record outside `hashKeyRange`, after it is flagged. */
  onOutOfRange?: ((record: DeaggregatedRecord) => void) | undefined;
  /** Shard id to put on the records when the input does not carry one (a Lambda `eventID` does). */
  shardId?: string | undefined;
}

/**
 * True when `data` starts with the KPL magic and is long enough to be an aggregate. A cheap test: it reads
 * neither the checksum nor the protobuf.
 */
export function isAggregated(data: Uint8Array): boolean {
  return (
    data.length >= AGGREGATE_OVERHEAD &&
    data[0] === MAGIC[0] &&
    data[1] === MAGIC[1] &&
    data[2] === MAGIC[2] &&
    data[3] === MAGIC[3]
  );
}

interface Outer {
  bytes: Buffer;
  /** The caller's bytes object (returned as is for a plain record). */
  original: Uint8Array;
  partitionKey: string;
  explicitHashKey: string | undefined;
  sequenceNumber: string | undefined;
  arrival: Date | undefined;
  shardId: string | undefined;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function toDate(value: Date | number | undefined): Date | undefined {
  return typeof value === 'number' ? new Date(value * 1000) : value;
}

function normalize(input: DeaggregateInput, shardId: string | undefined): Outer {
  if (input === null || typeof input !== 'object') {
    throw new InvalidOptionError('record', input, 'a Kinesis record');
  }
  if ('kinesis' in input && input.kinesis) {
    // A Lambda event record: its `.kinesis` payload, with the shard named by the eventID.
    return normalize(input.kinesis, shardIdOfEvent(input) ?? shardId);
  }
  if ('Data' in input || 'PartitionKey' in input) {
    const r = input as GetRecordsRecord;
    const original = r.Data ?? new Uint8Array(0);
    return {
      bytes: asBuffer(original),
      original,
      partitionKey: r.PartitionKey ?? '',
      explicitHashKey: undefined,
      sequenceNumber: r.SequenceNumber,
      arrival: r.ApproximateArrivalTimestamp,
      shardId,
    };
  }
  const r = input as RecordInput | KinesisEventPayload;
  if (typeof r.data === 'string') {
    const p = r as KinesisEventPayload;
    const bytes = Buffer.from(p.data, 'base64');
    return {
      bytes,
      original: bytes,
      partitionKey: p.partitionKey,
      explicitHashKey: undefined,
      sequenceNumber: p.sequenceNumber,
      arrival: toDate(p.approximateArrivalTimestamp),
      shardId,
    };
  }
  const p = r as RecordInput;
  if (!(p.data instanceof Uint8Array)) throw new InvalidOptionError('record.data', p.data, 'a Uint8Array');
  return {
    bytes: asBuffer(p.data),
    original: p.data,
    partitionKey: p.partitionKey,
    explicitHashKey: p.explicitHashKey,
    sequenceNumber: p.sequenceNumber,
    arrival: toDate(p.approximateArrivalTimestamp),
    shardId: p.shardId ?? shardId,
  };
}

function plain(outer: Outer): DeaggregatedRecord {
  return {
    partitionKey: outer.partitionKey,
    explicitHashKey: outer.explicitHashKey,
    data: outer.original,
    sequenceNumber: outer.sequenceNumber,
    subSequenceNumber: 0,
    aggregated: false,
    approximateArrivalTimestamp: outer.arrival,
    shardId: outer.shardId,
    outOfRange: undefined,
  };
}

class Invalid {
  constructor(
    readonly reason: InvalidAggregateReason,
    readonly detail?: string,
    readonly cause?: unknown,
  ) {}
}

/** Reads a uint64 varint as a number (exact below 2^53; larger values are out of any table's range anyway). */
function readIndex(reader: protobuf.Reader, end: number): number {
  const buf = reader.buf;
  let pos = reader.pos;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new Invalid('bad-protobuf', 'truncated varint');
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      reader.pos = pos;
      return value;
    }
    scale *= 128;
  }
  throw new Invalid('bad-protobuf', 'varint longer than 10 bytes');
}

/**
 * Parses the protobuf between the magic and the checksum with protobufjs's reader: the general decoder, for
 * any message {@link fastUnpack} does not take (unknown fields, non-canonical varints, errors). Returns the key
 * tables and, per record, 4 numbers: partition key index, explicit hash key index (-1 for none), data start,
 * data end.
 */
function parse(bytes: Buffer): { pks: string[]; ehks: string[]; recs: number[] } {
  const reader = Reader.create(bytes);
  const end = bytes.length - CHECKSUM_LENGTH;
  reader.pos = MAGIC.length;
  reader.len = end;
  const pks: string[] = [];
  const ehks: string[] = [];
  const recs: number[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 0x0a) {
      pks.push(reader.string());
    } else if (tag === 0x12) {
      ehks.push(reader.string());
    } else if (tag === 0x1a) {
      const length = reader.uint32();
      const recEnd = reader.pos + length;
      if (recEnd > end) throw new Invalid('bad-protobuf', 'record overruns the message');
      let pk = -1;
      let ehk = -1;
      let start = -1;
      let stop = -1;
      while (reader.pos < recEnd) {
        const t = reader.uint32();
        if (t === 0x08) {
          pk = readIndex(reader, recEnd);
        } else if (t === 0x10) {
          ehk = readIndex(reader, recEnd);
        } else if (t === 0x1a) {
          const n = reader.uint32();
          start = reader.pos;
          stop = start + n;
          if (stop > recEnd) throw new Invalid('bad-protobuf', 'data overruns the record');
          reader.pos = stop;
        } else {
          if (t >>> 3 === 0) throw new Invalid('bad-protobuf', 'field number 0');
          reader.skipType(t & 7);
        }
      }
      if (reader.pos !== recEnd) throw new Invalid('bad-protobuf', 'record overruns its length');
      if (pk < 0 || start < 0)
        throw new Invalid('bad-protobuf', 'record without partition_key_index or data');
      recs.push(pk, ehk, start, stop);
    } else {
      if (tag >>> 3 === 0) throw new Invalid('bad-protobuf', 'field number 0');
      reader.skipType(tag & 7);
    }
  }
  if (reader.pos !== end) throw new Invalid('bad-protobuf', 'message overruns its length');
  return { pks, ehks, recs };
}

/** Node's Buffer string slicers (what protobufjs's BufferReader uses too). */
interface Slicers {
  utf8Slice(start: number, end: number): string;
}

/**
 * The usual case, in one pass with no intermediate arrays: a canonical KPL message (key tables first, then
 * records; single-byte tags; varints of at most 4 bytes; no unknown fields; indexes in range). Returns `undefined`
 * for anything else (including every error): {@link parse} then decodes the message and classifies the error,
 * so the outcome is the same as with {@link parse} alone.
 */
function fastUnpack(outer: Outer, bytes: Buffer): DeaggregatedRecord[] | undefined {
  const end = bytes.length - CHECKSUM_LENGTH;
  const ab = bytes.buffer;
  const base = bytes.byteOffset;
  const { sequenceNumber, arrival, shardId } = outer;
  const pks: string[] = [];
  const ehks: string[] = [];
  const out: DeaggregatedRecord[] = [];
  let pos = MAGIC_LENGTH;
  while (pos < end) {
    const tag = bytes[pos++]!;
    // length-delimited field: 1-4 byte length
    if (pos >= end) return undefined;
    let b = bytes[pos++]!;
    let len = b & 0x7f;
    if (b >= 0x80) {
      if (pos >= end) return undefined;
      b = bytes[pos++]!;
      len |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        if (pos >= end) return undefined;
        b = bytes[pos++]!;
        len |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          if (pos >= end) return undefined;
          b = bytes[pos++]!;
          if (b >= 0x80) return undefined;
          len |= b << 21;
        }
      }
    }
    const stop = pos + len;
    if (stop > end) return undefined;
    if (tag === 0x1a) {
      // Record { 1: partition_key_index, 2: explicit_hash_key_index?, 3: data }, in this order
      if (pos + 2 > stop || bytes[pos] !== 0x08) return undefined;
      b = bytes[pos + 1]!;
      let pk: number;
      if (b < 0x80) {
        pk = b;
        pos += 2;
      } else {
        const v = readSmallVarint(bytes, pos + 1, stop);
        if (v < 0) return undefined;
        pk = v;
        pos = varintEnd;
      }
      if (pk >= pks.length) return undefined;
      let ehk = -1;
      if (pos < stop && bytes[pos] === 0x10) {
        ehk = readSmallVarint(bytes, pos + 1, stop);
        if (ehk < 0 || ehk >= ehks.length) return undefined;
        pos = varintEnd;
      }
      if (pos >= stop || bytes[pos] !== 0x1a) return undefined;
      const n = readSmallVarint(bytes, pos + 1, stop);
      if (n < 0) return undefined;
      pos = varintEnd;
      if (pos + n !== stop) return undefined;
      out.push({
        partitionKey: pks[pk]!,
        explicitHashKey: ehk >= 0 ? ehks[ehk] : undefined,
        data: Buffer.from(ab, base + pos, n),
        sequenceNumber,
        subSequenceNumber: out.length,
        aggregated: true,
        approximateArrivalTimestamp: arrival,
        shardId,
        outOfRange: undefined,
      });
    } else if (tag === 0x0a && out.length === 0) {
      pks.push((bytes as unknown as Slicers).utf8Slice(pos, stop));
    } else if (tag === 0x12 && out.length === 0) {
      ehks.push((bytes as unknown as Slicers).utf8Slice(pos, stop));
    } else {
      return undefined;
    }
    pos = stop;
  }
  return out.length > 0 ? out : undefined;
}

/** End of the varint last read by {@link readSmallVarint}. */
let varintEnd = 0;

/** Reads a varint of 1-4 bytes at `pos` (before `end`); -1 when there is none. Sets {@link varintEnd}. */
function readSmallVarint(bytes: Buffer, pos: number, end: number): number {
  let value = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) return -1;
    const b = bytes[pos++]!;
    value |= (b & 0x7f) << shift;
    if (b < 0x80) {
      varintEnd = pos;
      return value;
    }
  }
  return -1;
}

function checksumMatches(bytes: Buffer): boolean {
  const end = bytes.length - CHECKSUM_LENGTH;
  const digest = md5(bytes.subarray(MAGIC_LENGTH, end));
  for (let i = 0; i < CHECKSUM_LENGTH; i++) if (digest[i] !== bytes[end + i]) return false;
  return true;
}

function unpack(outer: Outer, options: DeaggregateOptions): DeaggregatedRecord[] | Invalid {
  const bytes = outer.bytes;
  if (
    bytes.length < MAGIC_LENGTH ||
    bytes[0] !== MAGIC_0 ||
    bytes[1] !== MAGIC_1 ||
    bytes[2] !== MAGIC_2 ||
    bytes[3] !== MAGIC_3
  ) {
    return new Invalid('not-aggregated');
  }
  if (bytes.length < AGGREGATE_OVERHEAD) return new Invalid('too-short', `${bytes.length} bytes`);
  if (options.verifyChecksum !== false && !checksumMatches(bytes)) return new Invalid('bad-checksum');
  let out = fastUnpack(outer, bytes);
  if (out === undefined) {
    let parsed: { pks: string[]; ehks: string[]; recs: number[] };
    try {
      parsed = parse(bytes);
    } catch (error) {
      return error instanceof Invalid ? error : new Invalid('bad-protobuf', String(error), error);
    }
    const { pks, ehks, recs } = parsed;
    const count = recs.length >>> 2;
    if (count === 0) return new Invalid('no-records');
    for (let i = 0; i < recs.length; i += 4) {
      if (recs[i]! >= pks.length) return new Invalid('index-out-of-range', `partition key index ${recs[i]}`);
      if (recs[i + 1]! >= ehks.length)
        return new Invalid('index-out-of-range', `explicit hash key index ${recs[i + 1]}`);
    }
    out = new Array(count);
    const { sequenceNumber, arrival, shardId } = outer;
    for (let i = 0, j = 0; i < count; i++, j += 4) {
      const e = recs[j + 1]!;
      out[i] = {
        partitionKey: pks[recs[j]!]!,
        explicitHashKey: e >= 0 ? ehks[e] : undefined,
        data: bytes.subarray(recs[j + 2]!, recs[j + 3]!),
        sequenceNumber,
        subSequenceNumber: i,
        aggregated: true,
        approximateArrivalTimestamp: arrival,
        shardId,
        outOfRange: undefined,
      };
    }
  }
  if (options.hashKeyRange) checkRange(out, options);
  return out;
}

function checkRange(out: DeaggregatedRecord[], options: DeaggregateOptions): void {
  const range = options.hashKeyRange!;
  const lo = toHashKey(range.startingHashKey);
  const hi = toHashKey(range.endingHashKey);
  if (lo === undefined || hi === undefined) {
    throw new InvalidOptionError('hashKeyRange', range, 'two hash keys (bigint or decimal string)');
  }
  // hash keys by partition key / explicit hash key (tables are de-duplicated, so each is computed once)
  const pkHash = new Map<string, bigint>();
  const ehkHash = new Map<string, bigint | null>();
  for (const record of out) {
    const ehk = record.explicitHashKey;
    let key: bigint | null | undefined;
    if (ehk !== undefined) {
      key = ehkHash.get(ehk);
      if (key === undefined) {
        key = toHashKey(ehk) ?? null;
        ehkHash.set(ehk, key);
      }
    } else {
      const pk = record.partitionKey;
      key = pkHash.get(pk);
      if (key === undefined) {
        key = readUInt128BE(md5(pk));
        pkHash.set(pk, key);
      }
    }
    if (key === null || key < lo || key > hi) {
      record.outOfRange = true;
      options.onOutOfRange?.(record);
    }
  }
}

/**
 * Extracts the user records of a Kinesis record: all of them for a KPL aggregate, or the record itself
 * (`aggregated: false`) otherwise. Synchronous; the returned `data` are views into the input's bytes (a Lambda
 * record's base64 is decoded once).
 *
 * Never returns zero records: input that is not a valid aggregate comes back as one plain record, unless
 * `onInvalid` says to throw.
 *
 * @example
 * ```ts
 * export const handler = async (event: KinesisStreamEvent) => {
 *   for (const record of event.Records) {
 *     for (const user of deaggregate(record)) console.log(user.partitionKey, user.sequenceNumber, user.subSequenceNumber);
 *   }
 * };
 * ```
 * @throws {@link InvalidAggregateError} only with `onInvalid: 'throw'` / `'throw-corrupt'`.
 */
export function deaggregate(
  record: DeaggregateInput,
  options: DeaggregateOptions = {},
): DeaggregatedRecord[] {
  const outer = normalize(record, options.shardId);
  const result = unpack(outer, options);
  if (!(result instanceof Invalid)) return result;
  const mode = options.onInvalid ?? 'passthrough';
  if (mode === 'throw' || (mode === 'throw-corrupt' && result.reason !== 'not-aggregated')) {
    throw new InvalidAggregateError(result.reason, outer, result.detail, result.cause);
  }
  return [plain(outer)];
}
