import {
  AGGREGATE_OVERHEAD,
  DEFAULT_AGGREGATE_PARTITION_KEY,
  DEFAULT_MAX_BYTES,
  MAGIC,
  MAX_MAX_BYTES,
  MAX_PARTITION_KEY_LENGTH,
} from './constants.js';
import {
  InvalidExplicitHashKeyError,
  InvalidOptionError,
  InvalidPartitionKeyError,
  InvalidRecordError,
  RecordTooLargeError,
} from './errors.js';
import { isExplicitHashKey, md5, readUInt128BE } from './hash.js';
import type { ShardMap } from './shard-map.js';

/** A record as a producer writes it. A string `data` is sent as its UTF-8 bytes. */
export interface UserRecord {
  /** 1..256 Unicode characters. */
  partitionKey: string;
  /** The payload; a string is encoded as UTF-8. */
  data: Uint8Array | string;
  /** Routes the record to the shard owning this hash key (decimal, `0 .. 2^128-1`) instead of MD5(partitionKey). */
  explicitHashKey?: string | undefined;
}

/**
 * A record ready for `PutRecords`/`PutRecord`: either a KPL aggregate of `recordCount` >= 2 user records (outer
 * partition key `"a"` by default, `explicitHashKey` = the first user record's hash key), or a lone user record
 * emitted as it is (`recordCount` 1).
 */
export interface AggregatedRecord {
  /** The outer partition key. */
  partitionKey: string;
  /** The outer explicit hash key, when there is one. */
  explicitHashKey?: string | undefined;
  /** The record's bytes. With `partitionKey` they never exceed `maxBytes`. */
  data: Uint8Array;
  /** How many user records it carries. */
  recordCount: number;
  /** With a `shardMap`: the shard all its user records belong to (when the map has one for them). */
  shardId?: string | undefined;
}

/** Options of {@link aggregate}, {@link Aggregator} and {@link aggregateStream}. */
export interface AggregateOptions {
  /**
   * Largest size of one emitted record, data + outer partition key, in bytes. Default 1 MiB (1,048,576), the
   * Kinesis limit; up to 10 MiB for streams configured for larger records.
   */
  maxBytes?: number | undefined;
  /** Most user records in one aggregate. Default unlimited. */
  maxRecords?: number | undefined;
  /**
   * Aggregate per shard: records of different shards never share an aggregate, so the KCL never discards one
   * after a reshard. Without it, records are packed in arrival order regardless of their shard (KPL without
   * a shard map).
   */
  shardMap?: ShardMap | undefined;
  /** Outer partition key of aggregates. Default `"a"` (the KPL's). */
  aggregatePartitionKey?: string | undefined;
}

/** `PutRecords` request entry (also fits `PutRecord` input) for the AWS SDK v3. */
export interface PutRecordsEntry {
  PartitionKey: string;
  ExplicitHashKey?: string;
  Data: Uint8Array;
}

/**
 * The `PutRecords` entry of an aggregated (or lone) record.
 *
 * @example
 * ```ts
 * await client.send(new PutRecordsCommand({ StreamName, Records: aggregate(records).map(toPutRecordsEntry) }));
 * ```
 */
export function toPutRecordsEntry(record: AggregatedRecord): PutRecordsEntry {
  return record.explicitHashKey === undefined
    ? { PartitionKey: record.partitionKey, Data: record.data }
    : { PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey, Data: record.data };
}

function varintLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** User records of one future aggregate, with their key tables and the exact protobuf size so far. */
class Group {
  readonly pkIndex = new Map<string, number>();
  readonly pks: string[] = [];
  readonly pkBytes: number[] = [];
  readonly ehkIndex = new Map<string, number>();
  readonly ehks: string[] = [];
  readonly ehkBytes: number[] = [];
  readonly recPk: number[] = [];
  readonly recEhk: number[] = [];
  readonly recData: Uint8Array[] = [];
  readonly recInner: number[] = [];
  /** Bytes of the protobuf message so far. */
  size = 0;
  firstHashKey: bigint | undefined;

  constructor(readonly shardId: string | undefined) {}

  get count(): number {
    return this.recData.length;
  }

  reset(): void {
    this.pkIndex.clear();
    this.pks.length = 0;
    this.pkBytes.length = 0;
    this.ehkIndex.clear();
    this.ehks.length = 0;
    this.ehkBytes.length = 0;
    this.recPk.length = 0;
    this.recEhk.length = 0;
    this.recData.length = 0;
    this.recInner.length = 0;
    this.size = 0;
    this.firstHashKey = undefined;
  }
}

function validateMaxBytes(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_BYTES;
  if (!Number.isInteger(value) || value < 1 || value > MAX_MAX_BYTES) {
    throw new InvalidOptionError('maxBytes', value, `an integer in 1..${MAX_MAX_BYTES}`);
  }
  return value;
}

/**
 * Packs user records into KPL aggregates incrementally. `add` returns the aggregates a record completed
 * (usually none); `flush` returns the rest. Records are kept by reference until emitted: do not modify
 * their `data` in between.
 *
 * Size accounting is exact (UTF-8 bytes, key tables, varints, the 20-byte frame and the outer partition key),
 * so an aggregate is filled to within a few bytes of `maxBytes` and never over it.
 *
 * @example
 * ```ts
 * const aggregator = new Aggregator({ shardMap });
 * for await (const event of source) {
 *   for (const rec of aggregator.add({ partitionKey: event.userId, data: JSON.stringify(event) })) await send(rec);
 * }
 * for (const rec of aggregator.flush()) await send(rec);
 * ```
 */
export class Aggregator {
  /** The size limit in force (data + outer partition key). */
  readonly maxBytes: number;
  private readonly maxRecords: number;
  private readonly shardMap: ShardMap | undefined;
  private readonly outerKey: string;
  private readonly outerKeyBytes: number;
  private readonly groups = new Map<string, Group>();
  private single: Group | undefined;
  private seen = 0;
  private pending = 0;

  /** @throws {@link InvalidOptionError} for an invalid option. */
  constructor(options: AggregateOptions = {}) {
    this.maxBytes = validateMaxBytes(options.maxBytes);
    const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    if (!(maxRecords >= 1)) throw new InvalidOptionError('maxRecords', maxRecords, 'a number >= 1');
    this.maxRecords = maxRecords;
    this.shardMap = options.shardMap;
    this.outerKey = options.aggregatePartitionKey ?? DEFAULT_AGGREGATE_PARTITION_KEY;
    if (typeof this.outerKey !== 'string' || this.outerKey.length === 0 || this.outerKey.length > 256) {
      throw new InvalidOptionError('aggregatePartitionKey', this.outerKey, 'a string of 1..256 characters');
    }
    this.outerKeyBytes = Buffer.byteLength(this.outerKey, 'utf8');
  }

  /** User records added and not emitted yet. */
  get pendingRecords(): number {
    return this.pending;
  }

  /**
   * Adds a user record; returns the aggregates it completed (usually none).
   *
   * @throws {@link RecordTooLargeError}, {@link InvalidPartitionKeyError}, {@link InvalidExplicitHashKeyError},
   *   {@link InvalidRecordError}: the record is rejected and the aggregator is unchanged.
   */
  add(record: UserRecord): AggregatedRecord[] {
    const out: AggregatedRecord[] = [];
    this.addTo(record, out);
    return out;
  }

  /** Emits every pending record (aggregated per shard; a lone record as it is). */
  flush(): AggregatedRecord[] {
    const out: AggregatedRecord[] = [];
    if (this.single && this.single.count > 0) out.push(this.emit(this.single));
    for (const group of this.groups.values()) if (group.count > 0) out.push(this.emit(group));
    this.groups.clear();
    return out;
  }

  /** @internal Adds `record`, pushing completed aggregates to `out`. */
  addTo(record: UserRecord, out: AggregatedRecord[]): void {
    const index = this.seen++;
    if (record === null || typeof record !== 'object') throw new InvalidRecordError(index, 'not an object');
    const pk = record.partitionKey;
    if (typeof pk !== 'string' || pk.length === 0) {
      throw new InvalidPartitionKeyError({ index, partitionKey: pk }, 'must be a non-empty string');
    }
    if (pk.length > MAX_PARTITION_KEY_LENGTH && countCodePoints(pk) > MAX_PARTITION_KEY_LENGTH) {
      throw new InvalidPartitionKeyError({ index, partitionKey: pk }, 'longer than 256 characters');
    }
    const ehk = record.explicitHashKey;
    if (ehk !== undefined && !isExplicitHashKey(ehk)) {
      throw new InvalidExplicitHashKeyError({ index, partitionKey: pk }, ehk);
    }
    let data = record.data;
    if (typeof data === 'string') data = Buffer.from(data, 'utf8');
    else if (!(data instanceof Uint8Array))
      throw new InvalidRecordError(index, 'data must be a Uint8Array or a string');
    const dataLen = data.length;

    let group: Group;
    let hashKey: bigint | undefined;
    if (this.shardMap) {
      hashKey = ehk !== undefined ? BigInt(ehk) : readUInt128BE(md5(pk));
      const shardId = this.shardMap.shardFor(hashKey)?.shardId;
      const key = shardId ?? '';
      let g = this.groups.get(key);
      if (!g) {
        g = new Group(shardId);
        this.groups.set(key, g);
      }
      group = g;
    } else {
      group = this.single ??= new Group(undefined);
    }

    let pkIdx = group.pkIndex.get(pk);
    const pkBytes = pkIdx === undefined ? Buffer.byteLength(pk, 'utf8') : group.pkBytes[pkIdx]!;
    if (dataLen + pkBytes > this.maxBytes) {
      throw new RecordTooLargeError({ index, partitionKey: pk }, dataLen + pkBytes, this.maxBytes);
    }
    let ehkIdx = ehk === undefined ? -1 : group.ehkIndex.get(ehk);

    let cost = this.costOf(group, pkIdx, pkBytes, ehk, ehkIdx, dataLen);
    if (
      group.count > 0 &&
      (AGGREGATE_OVERHEAD + this.outerKeyBytes + group.size + cost > this.maxBytes ||
        group.count >= this.maxRecords)
    ) {
      out.push(this.emit(group));
      pkIdx = undefined;
      ehkIdx = ehk === undefined ? -1 : undefined;
      cost = this.costOf(group, pkIdx, pkBytes, ehk, ehkIdx, dataLen);
    }

    if (pkIdx === undefined) {
      pkIdx = group.pks.length;
      group.pkIndex.set(pk, pkIdx);
      group.pks.push(pk);
      group.pkBytes.push(pkBytes);
    }
    if (ehkIdx === undefined) {
      ehkIdx = group.ehks.length;
      group.ehkIndex.set(ehk!, ehkIdx);
      group.ehks.push(ehk!);
      group.ehkBytes.push(ehk!.length);
    }
    if (group.count === 0) group.firstHashKey = hashKey;
    group.recPk.push(pkIdx);
    group.recEhk.push(ehkIdx);
    group.recData.push(data);
    group.recInner.push(innerLength(pkIdx, ehkIdx, dataLen));
    group.size += cost;
    this.pending++;
  }

  /** Protobuf bytes that adding this record to `group` costs (table entries + the record field). */
  private costOf(
    group: Group,
    pkIdx: number | undefined,
    pkBytes: number,
    ehk: string | undefined,
    ehkIdx: number | undefined,
    dataLen: number,
  ): number {
    let cost = 0;
    if (pkIdx === undefined) {
      pkIdx = group.pks.length;
      cost += 1 + varintLength(pkBytes) + pkBytes;
    }
    if (ehkIdx === undefined) {
      ehkIdx = group.ehks.length;
      cost += 1 + varintLength(ehk!.length) + ehk!.length;
    }
    const inner = innerLength(pkIdx, ehkIdx, dataLen);
    return cost + 1 + varintLength(inner) + inner;
  }

  private emit(group: Group): AggregatedRecord {
    const count = group.count;
    const shardId = group.shardId;
    let result: AggregatedRecord;
    if (count === 1) {
      const ehkIdx = group.recEhk[0]!;
      result = {
        partitionKey: group.pks[0]!,
        explicitHashKey: ehkIdx >= 0 ? group.ehks[ehkIdx] : undefined,
        data: group.recData[0]!,
        recordCount: 1,
      };
    } else {
      let hashKey = group.firstHashKey;
      if (hashKey === undefined) {
        const ehkIdx = group.recEhk[0]!;
        hashKey = ehkIdx >= 0 ? BigInt(group.ehks[ehkIdx]!) : readUInt128BE(md5(group.pks[group.recPk[0]!]!));
      }
      result = {
        partitionKey: this.outerKey,
        explicitHashKey: hashKey.toString(),
        data: encode(group),
        recordCount: count,
      };
    }
    if (shardId !== undefined) result.shardId = shardId;
    this.pending -= count;
    group.reset();
    return result;
  }
}

function innerLength(pkIdx: number, ehkIdx: number, dataLen: number): number {
  return (
    1 +
    varintLength(pkIdx) +
    (ehkIdx >= 0 ? 1 + varintLength(ehkIdx) : 0) +
    1 +
    varintLength(dataLen) +
    dataLen
  );
}

/** Writes the group as magic + protobuf + MD5 into one buffer of the exact size. */
function encode(group: Group): Buffer {
  const end = MAGIC.length + group.size;
  const buf = Buffer.allocUnsafeSlow(end + 16);
  buf.set(MAGIC, 0);
  let p = MAGIC.length;
  const { pks, pkBytes, ehks, recPk, recEhk, recData, recInner } = group;
  for (let i = 0; i < pks.length; i++) {
    const pk = pks[i]!;
    const n = pkBytes[i]!;
    buf[p++] = 0x0a;
    p = writeVarint(buf, p, n);
    if (n === pk.length && n <= 64) {
      // ASCII (UTF-8 length == UTF-16 length): a short copy loop beats a call into C++
      for (let c = 0; c < n; c++) buf[p++] = pk.charCodeAt(c);
    } else {
      p += buf.write(pk, p, 'utf8');
    }
  }
  for (let i = 0; i < ehks.length; i++) {
    const ehk = ehks[i]!;
    buf[p++] = 0x12;
    buf[p++] = ehk.length;
    for (let c = 0; c < ehk.length; c++) buf[p++] = ehk.charCodeAt(c);
  }
  for (let i = 0; i < recData.length; i++) {
    const data = recData[i]!;
    buf[p++] = 0x1a;
    p = writeVarint(buf, p, recInner[i]!);
    buf[p++] = 0x08;
    p = writeVarint(buf, p, recPk[i]!);
    const e = recEhk[i]!;
    if (e >= 0) {
      buf[p++] = 0x10;
      p = writeVarint(buf, p, e);
    }
    buf[p++] = 0x1a;
    p = writeVarint(buf, p, data.length);
    buf.set(data, p);
    p += data.length;
  }
  if (p !== end) throw new Error(`internal error: encoded ${p} bytes, expected ${end}`);
  buf.set(md5(buf.subarray(MAGIC.length, end)), end);
  return buf;
}

/**
 * Aggregates user records into as few Kinesis records as fit, KPL-compatible.
 *
 * @example
 * ```ts
 * const out = aggregate([{ partitionKey: 'k1', data: 'hello' }, { partitionKey: 'k2', data: 'world' }]);
 * // out: [{ partitionKey: 'a', explicitHashKey: '…', data: Uint8Array, recordCount: 2 }]
 * ```
 * @throws see {@link Aggregator.add}; nothing is returned when a record is rejected.
 */
export function aggregate(records: Iterable<UserRecord>, options?: AggregateOptions): AggregatedRecord[] {
  const aggregator = new Aggregator(options);
  const out: AggregatedRecord[] = [];
  for (const record of records) aggregator.addTo(record, out);
  for (const rec of aggregator.flush()) out.push(rec);
  return out;
}

/**
 * Aggregates a stream of user records, yielding each aggregate as soon as it is complete.
 *
 * @example
 * ```ts
 * for await (const rec of aggregateStream(readEvents(), { shardMap })) batch.push(toPutRecordsEntry(rec));
 * ```
 */
export async function* aggregateStream(
  records: AsyncIterable<UserRecord> | Iterable<UserRecord>,
  options?: AggregateOptions,
): AsyncGenerator<AggregatedRecord, void, undefined> {
  const aggregator = new Aggregator(options);
  const out: AggregatedRecord[] = [];
  for await (const record of records) {
    aggregator.addTo(record, out);
    if (out.length > 0) {
      yield* out;
      out.length = 0;
    }
  }
  yield* aggregator.flush();
}
