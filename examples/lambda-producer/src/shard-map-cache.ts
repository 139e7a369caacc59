import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { ShardMap } from '@kinesis-archive/agg';

/**
 * The stream's shard map, loaded once and reloaded when older than `maxAgeMs`, so a warm Lambda container does not
 * call ListShards on every invocation yet follows a reshard within `maxAgeMs`.
 */
export class ShardMapCache {
  private map: ShardMap | undefined;
  private loadedAt = 0;

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    private readonly maxAgeMs: number,
  ) {}

  /**
   * Makes the next {@link get} reload the map, whatever its age: Kinesis put a record on another shard than the map
   * predicted, so the stream was resharded (the KPL reacts the same way).
   */
  markStale(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** The current map (loading or refreshing it when needed). */
  async get(now = Date.now()): Promise<ShardMap> {
    if (!this.map) {
      this.map = await ShardMap.load(this.kinesis, { streamName: this.streamName });
      this.loadedAt = now;
    } else if (now - this.loadedAt >= this.maxAgeMs) {
      await this.map.refresh();
      this.loadedAt = now;
    }
    return this.map;
  }
}
