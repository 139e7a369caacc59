import { InvalidOptionError } from './errors.js';
import { hashKeyOf, toHashKey } from './hash.js';
import { hashKeyWords, keyHashWords } from './key-hash.js';

/** A shard as `ListShards` / `DescribeStream` describe it (the fields the shard map reads). */
export interface ShardDescription {
  ShardId?: string | undefined;
  ParentShardId?: string | undefined;
  AdjacentParentShardId?: string | undefined;
  HashKeyRange?: { StartingHashKey?: string | undefined; EndingHashKey?: string | undefined } | undefined;
  SequenceNumberRange?:
    | { StartingSequenceNumber?: string | undefined; EndingSequenceNumber?: string | undefined }
    | undefined;
}

/** One open shard and the inclusive range of hash keys it owns. */
export interface ShardRange {
  shardId: string;
  startingHashKey: bigint;
  endingHashKey: bigint;
}

/** Which stream {@link ShardMap.load} lists: by name or by ARN. */
export type StreamRef =
  | { streamName: string; streamARN?: undefined }
  | { streamARN: string; streamName?: undefined };

/**
 * The part of a Kinesis client that {@link ShardMap.load} uses: a v3 `KinesisClient` (from
 * `@aws-sdk/client-kinesis`) fits.
 */
export interface KinesisClientLike {
  send(command: object): Promise<unknown>;
}

interface ListShardsPage {
  Shards?: ShardDescription[];
  NextToken?: string;
}

/**
 * Which open shard owns which hash keys: lets an {@link Aggregator} aggregate per shard, so that an aggregate
 * never mixes records of two shards (the KCL drops such an aggregate after a reshard).
 *
 * Build it from `ListShards` output (`new ShardMap(out.Shards)` / `ShardMap.fromListShards(out)`), or load it
 * with a client (`await ShardMap.load(client, { streamName })`), and `refresh()` it after a reshard. Closed
 * shards (those with an `EndingSequenceNumber`) are ignored.
 *
 * @example
 * ```ts
 * const shardMap = await ShardMap.load(new KinesisClient({}), { streamName: 'my-stream' });
 * shardMap.shardFor(hashKeyOf('user-42'))?.shardId; // 'shardId-000000000003'
 * ```
 */
export class ShardMap {
  private ranges: ShardRange[] = [];
  /** Per shard (in `ranges` order): its starting then its ending hash key, as four big-endian words each. */
  private bounds = new Uint32Array(0);
  private readonly source: { client: KinesisClientLike; stream: StreamRef } | undefined;

  /**
   * @param shards shards as `ListShards` returns them; closed ones are skipped.
   * @throws {@link InvalidOptionError} for a shard without id or with a malformed hash key range.
   */
  constructor(shards: Iterable<ShardDescription>, source?: { client: KinesisClientLike; stream: StreamRef }) {
    this.source = source;
    this.setShards(shards);
  }

  /** Builds a map from a `ListShards` (or `DescribeStream().StreamDescription`) output or a list of shards. */
  static fromListShards(
    output: { Shards?: ShardDescription[] | undefined } | Iterable<ShardDescription>,
  ): ShardMap {
    return new ShardMap(isIterable(output) ? output : (output.Shards ?? []));
  }

  /**
   * Lists the stream's shards with `ListShards` (all pages) and keeps the open ones. `@aws-sdk/client-kinesis`
   * (an optional peer dependency) is imported on first use.
   *
   * @example
   * ```ts
   * const shardMap = await ShardMap.load(client, { streamARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/s' });
   * ```
   */
  static async load(client: KinesisClientLike, stream: StreamRef): Promise<ShardMap> {
    return new ShardMap(await listShards(client, stream), { client, stream });
  }

  /** Reloads the shards (after a reshard). Only for maps made by {@link ShardMap.load}. Returns `this`. */
  async refresh(): Promise<this> {
    if (!this.source) {
      throw new InvalidOptionError('ShardMap.refresh', 'static map', 'a map made by ShardMap.load');
    }
    this.setShards(await listShards(this.source.client, this.source.stream));
    return this;
  }

  /** The open shards, ordered by starting hash key. */
  get shards(): readonly ShardRange[] {
    return this.ranges;
  }

  /** Number of open shards. */
  get size(): number {
    return this.ranges.length;
  }

  /** The open shard that owns `hashKey` (a bigint or a decimal string), or `undefined` when none does. */
  shardFor(hashKey: bigint | string): ShardRange | undefined {
    const key = toHashKey(hashKey);
    if (key === undefined) return undefined;
    hashKeyWords(key, lookup);
    const index = this.indexOfWords(lookup);
    return index < 0 ? undefined : this.ranges[index];
  }

  /** The open shard a record with this partition key (and optional explicit hash key) is written to. */
  shardForKey(partitionKey: string, explicitHashKey?: string): ShardRange | undefined {
    // a partition key is routed on its MD5 words directly; the rest (and the errors) as hashKeyOf has them
    if (explicitHashKey !== undefined || typeof partitionKey !== 'string') {
      return this.shardFor(hashKeyOf(partitionKey, explicitHashKey));
    }
    keyHashWords(partitionKey, lookup);
    const index = this.indexOfWords(lookup);
    return index < 0 ? undefined : this.ranges[index];
  }

  /**
   * @internal The index in {@link shards} of the shard that owns the hash key held in `words` (four big-endian
   * 32-bit words, see `keyHashWords`), or -1. The aggregator's routing: no bigint per record.
   */
  indexOfWords(words: Uint32Array): number {
    const b = this.bounds;
    let lo = 0;
    let hi = (b.length >>> 3) - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWords(b, mid << 3, words) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0 || compareWords(b, (found << 3) + 4, words) < 0) return -1;
    return found;
  }

  private setShards(shards: Iterable<ShardDescription>): void {
    const ranges: ShardRange[] = [];
    for (const shard of shards) {
      if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue;
      const start = toHashKey(shard.HashKeyRange?.StartingHashKey ?? '');
      const end = toHashKey(shard.HashKeyRange?.EndingHashKey ?? '');
      if (!shard.ShardId || start === undefined || end === undefined || end < start) {
        throw new InvalidOptionError(
          'shard',
          shard.ShardId ?? '(no id)',
          'a shard id and a valid HashKeyRange',
        );
      }
      ranges.push({ shardId: shard.ShardId, startingHashKey: start, endingHashKey: end });
    }
    ranges.sort((a, b) =>
      a.startingHashKey < b.startingHashKey ? -1 : a.startingHashKey > b.startingHashKey ? 1 : 0,
    );
    if (!sameRanges(this.ranges, ranges)) generations.set(this, (generations.get(this) ?? 0) + 1);
    this.ranges = ranges;
    const bounds = new Uint32Array(ranges.length * 8);
    const words = new Uint32Array(4);
    ranges.forEach((r, i) => {
      hashKeyWords(r.startingHashKey, words);
      bounds.set(words, i * 8);
      hashKeyWords(r.endingHashKey, words);
      bounds.set(words, i * 8 + 4);
    });
    this.bounds = bounds;
  }
}

/** The words of the hash key {@link ShardMap.shardFor} looks up. */
const lookup = new Uint32Array(4);

/** Compares the four words at `at` in `bounds` with `words`: negative, 0 or positive. */
function compareWords(bounds: Uint32Array, at: number, words: Uint32Array): number {
  for (let i = 0; i < 4; i++) {
    const x = bounds[at + i]!;
    const y = words[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** How many times each map's open shards changed (a refresh after a reshard): see {@link shardMapGeneration}. */
const generations = new WeakMap<ShardMap, number>();

/**
 * @internal A number that changes whenever `map`'s open shards change, so that an {@link Aggregator} can tell
 * that the records it holds were grouped by shards that are gone.
 */
export function shardMapGeneration(map: ShardMap): number {
  return generations.get(map) ?? 0;
}

function sameRanges(a: readonly ShardRange[], b: readonly ShardRange[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (
      x.shardId !== y.shardId ||
      x.startingHashKey !== y.startingHashKey ||
      x.endingHashKey !== y.endingHashKey
    ) {
      return false;
    }
  }
  return true;
}

function isIterable(value: object): value is Iterable<ShardDescription> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

async function listShards(client: KinesisClientLike, stream: StreamRef): Promise<ShardDescription[]> {
  if (!stream.streamName && !stream.streamARN) {
    throw new InvalidOptionError('stream', stream, '{ streamName } or { streamARN }');
  }
  const { ListShardsCommand } = await import('@aws-sdk/client-kinesis');
  const shards: ShardDescription[] = [];
  let nextToken: string | undefined;
  do {
    const input = nextToken
      ? { NextToken: nextToken }
      : stream.streamARN
        ? { StreamARN: stream.streamARN }
        : { StreamName: stream.streamName };
    const page = (await client.send(new ListShardsCommand(input))) as ListShardsPage;
    if (page.Shards) shards.push(...page.Shards);
    nextToken = page.NextToken;
  } while (nextToken);
  return shards;
}
