import {
  AGGREGATE_OVERHEAD,
  CHECKSUM_LENGTH,
  DEFAULT_AGGREGATE_PARTITION_KEY,
  DEFAULT_MAX_BYTES,
  MAGIC,
  MAX_MAX_BYTES,
} from './constants.js';
import {
  InvalidExplicitHashKeyError,
  InvalidOptionError,
  InvalidPartitionKeyError,
  InvalidRecordError,
  RecordTooLargeError,
  ShardMapRequiredError,
} from './errors.js';
import { isExplicitHashKey } from './hash.js';
import { hashKeyWords, keyHashWords, wordsHashKey } from './key-hash.js';
import { md5 } from './md5.js';
import { isPartitionKeyTooLong } from './partition-key.js';
import { ShardMap, shardMapGeneration } from './shard-map.js';

// Module-local copies of the constants used per record or per aggregate (plain local reads on the hot path).
const MAGIC_LENGTH = MAGIC.length;
const [MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3] = MAGIC as unknown as [number, number, number, number];
const CHECKSUM_BYTES = CHECKSUM_LENGTH;

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
  /** With a `shardMap`: the shard all its user records belong to. */
  shardId?: string | undefined;
  /**
   * `true` on a user record sent un-aggregated because the shard map has no open shard for its hash key: the map
   * is stale (the stream was resharded after it was loaded, or the map was built from an incomplete list).
   * Reload it (`await shardMap.refresh()`). The record itself is safe to send: Kinesis routes it.
   */
  staleShardMap?: true | undefined;
}

/** Limits and naming of the aggregates, for both kinds of {@link AggregateOptions}. */
export interface AggregateLimits {
  /**
   * Largest size of one emitted record, data + outer partition key, in bytes. Default 1 MiB (1,048,576), the
   * Kinesis limit; up to 10 MiB for streams configured for larger records.
   */
  maxBytes?: number | undefined;
  /** Most user records in one aggregate. Default unlimited. */
  maxRecords?: number | undefined;
  /** Outer partition key of aggregates. Default `"a"` (the KPL's). */
  aggregatePartitionKey?: string | undefined;
}

/** Aggregate per shard of the target stream: the safe choice, for any stream and any consumer. */
export interface ShardAwareAggregateOptions extends AggregateLimits {
  /**
   * The target stream's open shards. Records of different shards never share an aggregate, so a KCL consumer
   * (which keeps only the sub-records that hash to the shard that received the aggregate) never drops one. A
   * record the map has no shard for is sent un-aggregated and flagged `staleShardMap`, as the KPL does.
   */
  shardMap: ShardMap;
  mixShards?: false | undefined;
}

/**
 * Aggregate records of every shard together, in arrival order; the outer hash key is the first record's, so an
 * aggregate lands on that record's shard. Safe only for a one-shard stream, or when every consumer keeps the
 * sub-records of any hash key (this package's `deaggregate`, aws-kinesis-agg); a KCL consumer drops the others.
 */
export interface MixShardsAggregateOptions extends AggregateLimits {
  /** `true`: the explicit opt-in to aggregates that mix shards. */
  mixShards: true;
  shardMap?: undefined;
}

/**
 * Options of {@link aggregate}, {@link Aggregator} and {@link aggregateStream}: a `shardMap` (the safe path), or
 * `mixShards: true` where mixing is known to be safe. Neither throws {@link ShardMapRequiredError}.
 */
export type AggregateOptions = ShardAwareAggregateOptions | MixShardsAggregateOptions;

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
 * await client.send(new PutRecordsCommand({ StreamName, Records: aggregate(records, { shardMap }).map(toPutRecordsEntry) }));
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

/**
 * User records of one future aggregate, with their key tables and the exact protobuf size so far. The tables and
 * per-record arrays are reused from one aggregate to the next (indexed writes, no per-aggregate reallocation).
 */
class Group {
  /** Without a shard map: the partition key table's index, by key. */
  readonly pkIndex = new Map<string, number>();
  /**
   * With a shard map (`hashed`): the same index as an open-addressing table on 32 bits of each key's MD5, which
   * routing computed anyway. Entries are key index + 1 (0: free). A few KiB per shard instead of a `Map`: with
   * dozens of shards pending at once, the `Map`s no longer fit in the CPU caches and their lookups were a
   * third of the cost of routing.
   */
  private slots: Int32Array;
  /** Per key of the table: the 32 bits of its MD5 that slot it. */
  private keyHashes: Int32Array;
  readonly pks: string[] = [];
  readonly pkBytes: number[] = [];
  pkCount = 0;
  /**
   * The partition key table as it is encoded (field 1: tag, length, UTF-8 bytes, per key), written when a key is
   * added, while its string is still in the CPU caches. With a shard map the keys of one aggregate lie far apart
   * in memory (those of other shards came in between); reading them again at encoding missed the caches.
   */
  keyTable: Buffer = Buffer.allocUnsafeSlow(1024);
  keyTableLength = 0;
  readonly ehkIndex = new Map<string, number>();
  readonly ehks: string[] = [];
  ehkCount = 0;
  /** Per record: partition key index, explicit hash key index (-1 for none). */
  recPk: Int32Array = new Int32Array(256);
  recEhk: Int32Array = new Int32Array(256);
  readonly recData: Uint8Array[] = [];
  count = 0;
  /** Bytes of the protobuf message so far. */
  size = 0;
  /** The first record's hash key (four big-endian words), when it was computed to route it. */
  readonly firstWords = new Uint32Array(4);
  hasFirstWords = false;

  constructor(
    readonly shardId: string | undefined,
    readonly hashed: boolean,
  ) {
    this.slots = new Int32Array(hashed ? 64 : 0);
    this.keyHashes = new Int32Array(hashed ? 32 : 0);
  }

  /** The index of `pk` in the partition key table, or -1. `hash`: 32 bits of its MD5 (with `hashed`). */
  findKey(pk: string, hash: number): number {
    if (this.pkCount === 0) return -1;
    if (!this.hashed) return this.pkIndex.get(pk) ?? -1;
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = slots[i]!;
      if (entry === 0) return -1;
      if (this.keyHashes[entry - 1] === hash && this.pks[entry - 1] === pk) return entry - 1;
    }
  }

  /** Appends `pk` to the partition key table; returns its index. */
  addKey(pk: string, hash: number, bytes: number): number {
    const idx = this.pkCount++;
    this.pks[idx] = pk;
    this.pkBytes[idx] = bytes;
    this.writeKey(pk, bytes);
    if (!this.hashed) {
      this.pkIndex.set(pk, idx);
      return idx;
    }
    if (idx === this.keyHashes.length) {
      const grown = new Int32Array(idx * 2);
      grown.set(this.keyHashes);
      this.keyHashes = grown;
    }
    this.keyHashes[idx] = hash;
    // at most half full
    if (2 * (idx + 1) > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      for (let k = 0; k <= idx; k++) this.slot(k);
    } else {
      this.slot(idx);
    }
    return idx;
  }

  /** Appends the encoded table entry of `pk` (`bytes`: its UTF-8 length) to {@link keyTable}. */
  private writeKey(pk: string, bytes: number): void {
    let p = this.keyTableLength;
    if (p + bytes + 3 > this.keyTable.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.keyTable.length * 2, p + bytes + 3));
      this.keyTable.copy(grown, 0, 0, p);
      this.keyTable = grown;
    }
    const table = this.keyTable;
    table[p++] = 0x0a;
    p = writeVarint(table, p, bytes);
    if (bytes === pk.length) {
      // ASCII (UTF-8 length == UTF-16 length): a short copy loop beats a call into C++
      for (let c = 0; c < bytes; c++) table[p++] = pk.charCodeAt(c);
    } else {
      p += table.write(pk, p, 'utf8');
    }
    this.keyTableLength = p;
  }

  private slot(idx: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = this.keyHashes[idx]! & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = idx + 1;
  }

  /** Appends a record whose keys are already in the tables. */
  push(pkIdx: number, ehkIdx: number, data: Uint8Array): void {
    const i = this.count;
    if (i === this.recPk.length) {
      const pk = new Int32Array(i * 2);
      pk.set(this.recPk);
      this.recPk = pk;
      const ehk = new Int32Array(i * 2);
      ehk.set(this.recEhk);
      this.recEhk = ehk;
    }
    this.recPk[i] = pkIdx;
    this.recEhk[i] = ehkIdx;
    if (i < this.recData.length) this.recData[i] = data;
    else this.recData.push(data);
    this.count = i + 1;
  }

  reset(): void {
    if (this.pkCount > 0) {
      if (this.hashed) this.slots.fill(0);
      else this.pkIndex.clear();
    }
    if (this.ehkCount > 0) this.ehkIndex.clear();
    // drop the references to emitted keys and data (the arrays keep their capacity for the next aggregate)
    this.pks.fill('', 0, this.pkCount);
    this.ehks.fill('', 0, this.ehkCount);
    this.recData.fill(EMPTY, 0, this.count);
    this.pkCount = 0;
    this.keyTableLength = 0;
    this.ehkCount = 0;
    this.count = 0;
    this.size = 0;
    this.hasFirstWords = false;
  }
}

const EMPTY = new Uint8Array(0);

/** A UTF-16 surrogate not part of a pair (with the `u` flag a pair is one code point, never a match). */
const LONE_SURROGATE = /\p{Cs}/u;

/** UTF-8 length of a partition key: its length when it is ASCII (the usual case), else `Buffer.byteLength`. */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

function validateMaxBytes(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_BYTES;
  if (!Number.isInteger(value) || value < 1 || value > MAX_MAX_BYTES) {
    throw new InvalidOptionError('maxBytes', value, `an integer in 1..${MAX_MAX_BYTES}`);
  }
  return value;
}

/**
 * The most recently created aggregator, kept reachable on purpose. When every aggregator (and its groups) has
 * been collected, V8 discards the optimized code of the hot paths (`add`, `encode`: "deoptimization, reason:
 * weak objects"), so each `aggregate()` call after a full GC ran its first thousands of records unoptimized
 * while the code was recompiled: about a quarter of the time of a 100,000-record batch. Keeping the last
 * one alive avoids that. Once flushed it holds no records, only its emptied tables (an aggregator dropped with
 * records pending keeps them until the next aggregator is created).
 */
const recent: { aggregator?: Aggregator } = {};

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
  /** Largest protobuf message size: `maxBytes` less the frame and the outer partition key. */
  private readonly limit: number;
  /** With a shard map: the group of each shard, by its index in `shardMap.shards` (of `generation`). */
  private byShard: (Group | undefined)[] = [];
  /** The hash key of the record being routed (four big-endian words). */
  private readonly words = new Uint32Array(4);
  /** The MD5 of its partition key, when it has an explicit hash key (then `words` hold that). */
  private readonly keyWords = new Uint32Array(4);
  /**
   * Groups of shards the map no longer has (it was refreshed after a reshard): their records are re-packed by the
   * current shards and emitted before anything newer, so that the records of one key keep their order.
   */
  private retired: Group[] = [];
  /** The shard map's generation the groups were made for. */
  private generation = 0;
  private single: Group | undefined;
  private seen = 0;
  private pending = 0;

  /**
   * @throws {@link ShardMapRequiredError} without `shardMap` and without `mixShards: true`;
   *   {@link InvalidOptionError} for an invalid option.
   */
  constructor(options: AggregateOptions) {
    const { shardMap, mixShards } = (options ?? {}) as { shardMap?: unknown; mixShards?: unknown };
    if (mixShards !== undefined && typeof mixShards !== 'boolean') {
      throw new InvalidOptionError('mixShards', mixShards, 'true or false');
    }
    if (shardMap !== undefined && !(shardMap instanceof ShardMap)) {
      throw new InvalidOptionError('shardMap', shardMap, 'a ShardMap');
    }
    if (shardMap && mixShards) {
      throw new InvalidOptionError('mixShards', mixShards, 'not together with a shardMap: choose one');
    }
    if (!shardMap && !mixShards) throw new ShardMapRequiredError();
    this.maxBytes = validateMaxBytes(options.maxBytes);
    const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    if (!(maxRecords >= 1)) throw new InvalidOptionError('maxRecords', maxRecords, 'a number >= 1');
    this.maxRecords = maxRecords;
    this.shardMap = shardMap;
    if (this.shardMap) this.generation = shardMapGeneration(this.shardMap);
    this.outerKey = options.aggregatePartitionKey ?? DEFAULT_AGGREGATE_PARTITION_KEY;
    if (typeof this.outerKey !== 'string' || this.outerKey.length === 0 || this.outerKey.length > 256) {
      throw new InvalidOptionError('aggregatePartitionKey', this.outerKey, 'a string of 1..256 characters');
    }
    this.limit = this.maxBytes - AGGREGATE_OVERHEAD - Buffer.byteLength(this.outerKey, 'utf8');
    recent.aggregator = this;
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
    if (this.shardMap && shardMapGeneration(this.shardMap) !== this.generation) this.retireGroups();
    if (this.retired.length > 0) this.emitRetired(out);
    if (this.single && this.single.count > 0) out.push(this.emit(this.single));
    for (const group of this.byShard) if (group && group.count > 0) out.push(this.emit(group));
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
    if (isPartitionKeyTooLong(pk)) {
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
    const words = this.words;
    if (this.shardMap) {
      if (shardMapGeneration(this.shardMap) !== this.generation) this.retireGroups();
      // one hash per record, on the MD5 words: routes it and, for an aggregate's first record, its outer key
      if (ehk !== undefined) hashKeyWords(BigInt(ehk), words);
      else keyHashWords(pk, words);
      const shard = this.shardMap.indexOfWords(words);
      if (shard < 0) {
        this.emitUnmapped(index, pk, ehk, data, out);
        return;
      }
      group = this.byShard[shard] ?? this.newGroup(shard);
    } else {
      group = this.single ??= new Group(undefined, false);
    }
    // 32 bits of the key's MD5 for the key table of a shard's group (none without a map)
    let keyHash = 0;
    if (group.hashed) {
      if (ehk === undefined) {
        keyHash = words[3]! | 0;
      } else {
        keyHashWords(pk, this.keyWords);
        keyHash = this.keyWords[3]! | 0;
      }
    }

    // -1: not in the table yet
    let pkIdx = group.findKey(pk, keyHash);
    const pkBytes = pkIdx < 0 ? this.checkNewKey(index, pk, dataLen) : group.pkBytes[pkIdx]!;
    if (pkIdx >= 0) this.checkSize(index, pk, pkBytes, dataLen);
    if (this.retired.length > 0) this.emitRetired(out);
    // -2: no explicit hash key; -1: not in the table yet
    let ehkIdx = ehk === undefined ? -2 : group.ehkCount > 0 ? (group.ehkIndex.get(ehk) ?? -1) : -1;

    let cost = costOf(group, pkIdx, pkBytes, ehk, ehkIdx, dataLen);
    if (group.count > 0 && (this.limit < group.size + cost || group.count >= this.maxRecords)) {
      out.push(this.emit(group));
      pkIdx = -1;
      if (ehkIdx !== -2) ehkIdx = -1;
      cost = costOf(group, pkIdx, pkBytes, ehk, ehkIdx, dataLen);
    }

    if (pkIdx < 0) pkIdx = group.addKey(pk, keyHash, pkBytes);
    if (ehkIdx === -1) {
      ehkIdx = group.ehkCount++;
      group.ehkIndex.set(ehk!, ehkIdx);
      group.ehks[ehkIdx] = ehk!;
    }
    if (group.count === 0 && this.shardMap) {
      group.firstWords.set(words);
      group.hasFirstWords = true;
    }
    group.push(pkIdx, ehkIdx < 0 ? -1 : ehkIdx, data);
    group.size += cost;
    this.pending++;
  }

  /**
   * The checks of a key not yet in its aggregate's table, and of the record's size; returns the key's UTF-8
   * length. A non-ASCII key: UTF-8 would turn a lone surrogate into U+FFFD (another key).
   */
  private checkNewKey(index: number, pk: string, dataLen: number): number {
    const pkBytes = utf8Length(pk);
    if (pkBytes !== pk.length && LONE_SURROGATE.test(pk)) {
      throw new InvalidPartitionKeyError(
        { index, partitionKey: pk },
        'contains a lone surrogate (not valid UTF-16)',
      );
    }
    this.checkSize(index, pk, pkBytes, dataLen);
    return pkBytes;
  }

  /** A record that cannot fit in one Kinesis record even alone. */
  private checkSize(index: number, pk: string, pkBytes: number, dataLen: number): void {
    if (dataLen + pkBytes > this.maxBytes) {
      throw new RecordTooLargeError({ index, partitionKey: pk }, dataLen + pkBytes, this.maxBytes);
    }
  }

  private newGroup(shard: number): Group {
    const group = new Group(this.shardMap!.shards[shard]!.shardId, true);
    this.byShard[shard] = group;
    return group;
  }

  /**
   * A record whose hash key no shard of the map owns (a stale map): emitted at once, un-aggregated, flagged, as
   * the KPL does. Its checks are those of any record; when one fails, nothing is emitted or changed.
   */
  private emitUnmapped(
    index: number,
    pk: string,
    ehk: string | undefined,
    data: Uint8Array,
    out: AggregatedRecord[],
  ): void {
    this.checkNewKey(index, pk, data.length);
    if (this.retired.length > 0) this.emitRetired(out);
    out.push({ partitionKey: pk, explicitHashKey: ehk, data, recordCount: 1, staleShardMap: true });
  }

  /** The map changed: the pending groups belong to the old shards; they go out before any newer record. */
  private retireGroups(): void {
    for (const g of this.byShard) if (g && g.count > 0) this.retired.push(g);
    this.byShard = [];
    this.generation = shardMapGeneration(this.shardMap!);
  }

  /**
   * Emits the records held for shards the map no longer has, re-packed by the current shards (so that no
   * aggregate mixes two of them), in their order.
   */
  private emitRetired(out: AggregatedRecord[]): void {
    const repack = new Aggregator({
      maxBytes: this.maxBytes,
      maxRecords: this.maxRecords,
      shardMap: this.shardMap!,
      aggregatePartitionKey: this.outerKey,
    });
    for (const group of this.retired) {
      for (let i = 0; i < group.count; i++) {
        const ehkIdx = group.recEhk[i]!;
        repack.addTo(
          {
            partitionKey: group.pks[group.recPk[i]!]!,
            explicitHashKey: ehkIdx >= 0 ? group.ehks[ehkIdx] : undefined,
            data: group.recData[i]!,
          },
          out,
        );
      }
      this.pending -= group.count;
      group.reset();
    }
    this.retired = [];
    for (const record of repack.flush()) out.push(record);
    recent.aggregator = this;
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
      // the outer hash key is the first record's (the KPL's choice): its explicit hash key, or its key's MD5
      const ehkIdx = group.recEhk[0]!;
      let outerHashKey: string;
      if (ehkIdx >= 0) {
        outerHashKey = group.ehks[ehkIdx]!;
      } else {
        if (!group.hasFirstWords) keyHashWords(group.pks[group.recPk[0]!]!, group.firstWords);
        outerHashKey = wordsHashKey(group.firstWords).toString();
      }
      result = {
        partitionKey: this.outerKey,
        explicitHashKey: outerHashKey,
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

/**
 * Protobuf bytes that adding this record to `group` costs (table entries + the record field). `pkIdx` / `ehkIdx`
 * -1: the key is not in its table yet; `ehkIdx` -2: no explicit hash key.
 */
function costOf(
  group: Group,
  pkIdx: number,
  pkBytes: number,
  ehk: string | undefined,
  ehkIdx: number,
  dataLen: number,
): number {
  let cost = 0;
  if (pkIdx < 0) {
    pkIdx = group.pkCount;
    cost += 1 + varintLength(pkBytes) + pkBytes;
  }
  if (ehkIdx === -1) {
    ehkIdx = group.ehkCount;
    cost += 1 + varintLength(ehk!.length) + ehk!.length;
  }
  const inner = innerLength(pkIdx, ehkIdx, dataLen);
  return cost + 1 + varintLength(inner) + inner;
}

/** Length of a `Record` message: `ehkIdx` < 0 for none. */
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

/**
 * Writes the group as magic + protobuf + MD5 into one buffer of the exact size. Each loop is a function of its
 * own: V8 then optimizes it as a whole function with complete type feedback. (As one function with three
 * loops, it was compiled on-stack in the first loop, before the later ones had run, and the cached code
 * deoptimized at every aggregate.)
 */
function encode(group: Group): Buffer {
  const end = MAGIC_LENGTH + group.size;
  const buf = Buffer.allocUnsafeSlow(end + CHECKSUM_BYTES);
  buf[0] = MAGIC_0;
  buf[1] = MAGIC_1;
  buf[2] = MAGIC_2;
  buf[3] = MAGIC_3;
  let p = MAGIC_LENGTH + group.keyTable.copy(buf, MAGIC_LENGTH, 0, group.keyTableLength);
  if (group.ehkCount > 0) p = writeHashKeys(buf, p, group.ehks, group.ehkCount);
  p = writeRecords(buf, p, group.recPk, group.recEhk, group.recData, group.count);
  if (p !== end) throw new Error(`internal error: encoded ${p} bytes, expected ${end}`);
  buf.set(md5(buf.subarray(MAGIC_LENGTH, end)), end);
  return buf;
}

/** The explicit hash key table (field 2): decimal strings of at most 39 digits. */
function writeHashKeys(buf: Buffer, p: number, ehks: string[], count: number): number {
  for (let i = 0; i < count; i++) {
    const ehk = ehks[i]!;
    buf[p++] = 0x12;
    buf[p++] = ehk.length;
    for (let c = 0; c < ehk.length; c++) buf[p++] = ehk.charCodeAt(c);
  }
  return p;
}

/** The records (field 3): `Record { partition_key_index, explicit_hash_key_index?, data }`. */
function writeRecords(
  buf: Buffer,
  p: number,
  recPk: Int32Array,
  recEhk: Int32Array,
  recData: Uint8Array[],
  count: number,
): number {
  for (let i = 0; i < count; i++) {
    const data = recData[i]!;
    const dataLen = data.length;
    const pkIdx = recPk[i]!;
    const e = recEhk[i]!;
    buf[p++] = 0x1a;
    p = writeVarint(buf, p, innerLength(pkIdx, e, dataLen));
    buf[p++] = 0x08;
    p = writeVarint(buf, p, pkIdx);
    if (e >= 0) {
      buf[p++] = 0x10;
      p = writeVarint(buf, p, e);
    }
    buf[p++] = 0x1a;
    p = writeVarint(buf, p, dataLen);
    buf.set(data, p);
    p += dataLen;
  }
  return p;
}

/**
 * Aggregates user records into as few Kinesis records as fit, per shard of the target stream, KPL-compatible.
 *
 * @example
 * ```ts
 * const shardMap = await ShardMap.load(client, { streamName: 'my-stream' });
 * const out = aggregate([{ partitionKey: 'k1', data: 'hello' }, { partitionKey: 'k2', data: 'world' }], { shardMap });
 * // one aggregate per shard that owns some of the keys, e.g.
 * // [{ partitionKey: 'a', explicitHashKey: '…', data: Uint8Array, recordCount: 2, shardId: 'shardId-000000000001' }]
 * ```
 * @throws {@link ShardMapRequiredError} without `shardMap` or `mixShards: true`; {@link InvalidOptionError};
 *   otherwise see {@link Aggregator.add}: nothing is returned when a record is rejected.
 */
export function aggregate(records: Iterable<UserRecord>, options: AggregateOptions): AggregatedRecord[] {
  const aggregator = new Aggregator(options);
  const out: AggregatedRecord[] = [];
  for (const record of records) aggregator.addTo(record, out);
  for (const rec of aggregator.flush()) out.push(rec);
  return out;
}

/**
 * Aggregates a stream of user records, yielding each aggregate as soon as it is complete. When a record is
 * rejected (see {@link Aggregator.add}) or `records` throws, the records taken before it are yielded first, then
 * the error is thrown: every record before the error's `index` has been yielded, none after.
 *
 * @example
 * ```ts
 * for await (const rec of aggregateStream(readEvents(), { shardMap })) batch.push(toPutRecordsEntry(rec));
 * ```
 * @throws {@link ShardMapRequiredError} or {@link InvalidOptionError} at the call, before anything is read.
 */
export function aggregateStream(
  records: AsyncIterable<UserRecord> | Iterable<UserRecord>,
  options: AggregateOptions,
): AsyncGenerator<AggregatedRecord, void, undefined> {
  return run(new Aggregator(options), records);
}

async function* run(
  aggregator: Aggregator,
  records: AsyncIterable<UserRecord> | Iterable<UserRecord>,
): AsyncGenerator<AggregatedRecord, void, undefined> {
  const out: AggregatedRecord[] = [];
  try {
    for await (const record of records) {
      aggregator.addTo(record, out);
      if (out.length > 0) {
        yield* out;
        out.length = 0;
      }
    }
  } catch (error) {
    // a rejected record or a failing source: the records taken before it are still delivered, then the error
    yield* aggregator.flush();
    throw error;
  }
  yield* aggregator.flush();
}
