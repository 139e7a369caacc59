import { Aggregator, ShardMap } from '@kinesis-archive/agg';
import { loneUnit, type ReadyItem, type Unit } from './item.js';

interface Held {
  item: ReadyItem;
}

/**
 * KPL aggregation for the replayer, per shard, knowing which source records each aggregate carries (to settle
 * them when it is acknowledged, and to order it by their keys).
 *
 * The aggregator works on a frozen copy of the caller's shard map, so that it and this bookkeeping always see
 * the same shards. When the caller's map changes (it refreshed it after a reshard), the records held so far are
 * grouped again by the new shards, in their order, with a new aggregator: no aggregate mixes two of the new
 * shards, and each key's records keep their order.
 */
export class ShardAggregation {
  private frozen: ShardMap;
  private seen: ShardMap['shards'];
  private signature: string;
  private aggregator: Aggregator;
  /** The records held by the aggregator, by the (frozen) shard it groups them under, in arrival order. */
  private held = new Map<string, Held[]>();

  /** When the aggregator last went from empty to holding records (undefined while it holds none). */
  private heldSince: number | undefined;
  /** Kinesis acknowledged an aggregate on another shard than it was built for: reload the map before going on. */
  private stale = false;
  /** When the map was last reloaded for being stale. */
  private reloadedAt = Number.NEGATIVE_INFINITY;

  /**
   * @param maxAgeMs longest a record is held in an aggregate that is not full: past it, every held record is
   *   sent (checked as records are added). Bounds how long the checkpoint waits for a sparse shard's records.
   */
  constructor(
    private readonly shardMap: ShardMap,
    private readonly maxBytes: number,
    private readonly maxAgeMs: number = Number.POSITIVE_INFINITY,
    private readonly clock: () => number = Date.now,
  ) {
    this.seen = shardMap.shards;
    this.signature = signatureOf(this.seen);
    this.frozen = freeze(this.seen);
    this.aggregator = new Aggregator({ shardMap: this.frozen, maxBytes });
  }

  /**
   * Adds a record; returns the units it completed (usually none). Call {@link due} first.
   *
   * @throws what `Aggregator.add` throws for a record it rejects (nothing is added then).
   */
  add(item: ReadyItem): Unit[] {
    const units: Unit[] = [];
    this.hold(item, units);
    this.heldSince ??= this.clock();
    return units;
  }

  /**
   * Notes where Kinesis put a unit. An aggregate on another shard than the one it was built for means the stream
   * was resharded: its user records may hash to another shard than the one that holds them, and a KCL consumer
   * drops those. As the KPL does, the map is reloaded before the next record, and the user records are returned to
   * be sent again, each on its own (Kinesis routes a lone record by its own hash key). Returns `undefined` when the
   * unit landed where it was built for.
   */
  acknowledged(unit: Unit, shardId: string): Unit[] | undefined {
    if (!unit.shardId || !shardId || shardId === unit.shardId) return undefined;
    this.stale = true;
    // a lone record (not an aggregate: those are larger than their one record) is routed by its own hash key
    if (unit.items.length === 1 && unit.data.byteLength === unit.items[0]!.checked.data.byteLength)
      return undefined;
    return unit.items.map(loneUnit);
  }

  /**
   * The units due before the next record: the held records grouped again when the map changed (reloaded after a
   * reshard, or refreshed by the caller), and every held record once the oldest was held `maxAgeMs`. Call it
   * before each {@link add}.
   */
  async due(): Promise<Unit[]> {
    const units = await this.followMap();
    if (this.heldSince !== undefined && this.clock() - this.heldSince >= this.maxAgeMs) {
      this.take(this.aggregator.flush(), units);
      this.heldSince = undefined;
    }
    return units;
  }

  /** Returns the units of every record held. */
  async flush(): Promise<Unit[]> {
    const units = await this.followMap();
    this.take(this.aggregator.flush(), units);
    this.heldSince = undefined;
    return units;
  }

  private hold(item: ReadyItem, units: Unit[]): void {
    const checked = item.checked;
    // Held before it is added: a record the (frozen) map has no shard for comes straight back, un-aggregated.
    const shard = this.frozen.shardForKey(checked.partitionKey, checked.explicitHashKey)?.shardId ?? NO_SHARD;
    let list = this.held.get(shard);
    if (!list) {
      list = [];
      this.held.set(shard, list);
    }
    list.push({ item });
    let outs: ReturnType<Aggregator['add']>;
    try {
      outs = this.aggregator.add(checked);
    } catch (error) {
      list.pop(); // rejected: the aggregator is unchanged, and so is the bookkeeping
      throw error;
    }
    this.take(outs, units);
  }

  /** Turns the aggregator's output into units, taking their records from the front of their shard's list. */
  private take(outs: ReturnType<Aggregator['add']>, units: Unit[]): void {
    for (const out of outs) {
      // the map has no shard for this record's key (stale, or from a listing that left shards out): reload it
      if (out.staleShardMap) this.stale = true;
      const list = this.held.get(out.shardId ?? NO_SHARD) ?? [];
      const items = list.splice(0, out.recordCount).map((h) => h.item);
      if (items.length !== out.recordCount) {
        throw new Error(`internal error: an aggregate of ${out.recordCount} records, ${items.length} held`);
      }
      units.push({
        partitionKey: out.partitionKey,
        data: out.data,
        explicitHashKey: out.explicitHashKey,
        orderingKeys: [...new Set(items.map((i) => i.record.partitionKey))],
        items,
        shardId: out.shardId,
      });
    }
  }

  /**
   * Reloads the map when a reshard was seen; when the map changed since the last call, groups the held records
   * again by its new shards. Returns the units that completed meanwhile (usually none).
   */
  private async followMap(): Promise<Unit[]> {
    // at most one ListShards per RELOAD_INTERVAL_MS: a map that stays stale must not cost a call per record
    if (this.stale && this.clock() - this.reloadedAt >= RELOAD_INTERVAL_MS) {
      this.stale = false;
      this.reloadedAt = this.clock();
      await reload(this.shardMap);
    }
    const units: Unit[] = [];
    const current = this.shardMap.shards;
    if (current === this.seen) return units;
    this.seen = current;
    const signature = signatureOf(current);
    if (signature === this.signature) return units;
    this.signature = signature;
    const held = [...this.held.values()].flat();
    this.held = new Map();
    this.frozen = freeze(current);
    this.aggregator = new Aggregator({ shardMap: this.frozen, maxBytes: this.maxBytes });
    // Each key was under one shard, in order: adding them again in that order keeps every key's order.
    for (const { item } of held) this.hold(item, units);
    return units;
  }
}

const NO_SHARD = '';

/** Shortest time between two reloads of a stale map (the first one is at once). */
const RELOAD_INTERVAL_MS = 1000;

/**
 * Reloads a map made by `ShardMap.load`, best effort: a static map (built from a shard list) is left as it is, and
 * a failed `ListShards` keeps the current map until the next mismatch.
 */
async function reload(shardMap: ShardMap): Promise<void> {
  try {
    await shardMap.refresh();
  } catch {
    // best effort, as above
  }
}

function signatureOf(shards: ShardMap['shards']): string {
  return shards.map((s) => `${s.shardId}:${s.startingHashKey}:${s.endingHashKey}`).join(',');
}

/** A static copy of a map's open shards (its own object: a refresh of the original does not change it). */
function freeze(shards: ShardMap['shards']): ShardMap {
  return new ShardMap(
    shards.map((s) => ({
      ShardId: s.shardId,
      HashKeyRange: {
        StartingHashKey: s.startingHashKey.toString(),
        EndingHashKey: s.endingHashKey.toString(),
      },
    })),
  );
}
