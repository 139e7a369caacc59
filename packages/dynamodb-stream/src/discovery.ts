import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type BackoffOptions, isTransientError, retry } from '@kinesis-archive/core';
import { DescribeStreamError } from './errors.js';
import { type ReadContext, shardExists } from './reader.js';
import type { ShardState } from './shard-state.js';
import {
  childHasProgress,
  describeShards,
  lineageGate,
  ShardDirectory,
  type StreamListing,
  type StreamStatus,
  type StreamsClient,
} from './shard-tracker.js';
import type { DynamoDBStreamEvents } from './stream-types.js';

/** What {@link Discovery} needs from its consumer. */
export interface DiscoveryHost {
  readonly options: {
    client: StreamsClient;
    retry?: BackoffOptions | undefined;
    startingPosition?: 'TRIM_HORIZON' | 'LATEST' | undefined;
    followTable?: { dynamodb: Pick<DynamoDBClient, 'send'>; tableName: string } | undefined;
  };
  /** The stream followed now. */
  streamArn(): string;
  /** The live state (changed in place). */
  state(): ShardState;
  markDirty(): void;
  /** Opens the shard's first iterator at LATEST. */
  useLatest(shardId: string): void;
  emit<K extends keyof DynamoDBStreamEvents>(event: K, args: DynamoDBStreamEvents[K]): Promise<void>;
  vanish(shardId: string, error: unknown): Promise<void>;
  readContext(signal: AbortSignal | undefined): ReadContext;
  /** Follows another stream from now on: the state, read positions and leases start over. */
  switchTo(streamArn: string): void;
}

/**
 * Shard discovery, apart from the reads: lists the stream, brings the state up to date (new, closed, vanished and
 * forgotten shards; a LATEST first start), asks the service about parents the state does not know, follows
 * `StreamStatus`, recognises a state of another stream, and (with `followTable`) moves to the table's new stream.
 */
export class Discovery {
  private readonly host: DiscoveryHost;
  private readonly directory = new ShardDirectory();
  private status: StreamStatus | undefined;
  /** No state was saved: a LATEST start applies to the shards of the first listing. */
  firstStart = false;

  constructor(host: DiscoveryHost) {
    this.host = host;
  }

  /** A state of another stream: its undrained shards are reported lost, and the state starts over. */
  async checkStreamOfState(): Promise<void> {
    const others = Object.entries(this.host.state()).filter(
      ([, p]) => p.streamArn !== undefined && p.streamArn !== this.host.streamArn(),
    );
    if (others.length === 0) return;
    const previousStreamArn = others[0]![1].streamArn!;
    for (const [id, p] of others) {
      if (!p.retired) {
        await this.host.emit('data loss', [
          {
            shardId: id,
            reason: 'stream-replaced',
            ...(p.sequenceNumber !== undefined ? { lastSequenceNumber: p.sequenceNumber } : {}),
          },
        ]);
      }
      delete this.host.state()[id];
    }
    this.directory.reset();
    this.host.markDirty();
    await this.host.emit('stream changed', [{ previousStreamArn, streamArn: this.host.streamArn() }]);
  }

  /** Lists the shards and brings the state up to date. Failures are reported; the known shards read on. */
  async discover(signal: AbortSignal | undefined, report: (error: Error) => void): Promise<void> {
    let listing: StreamListing | undefined;
    try {
      listing = await retry(() => describeShards(this.host.options.client, this.host.streamArn(), signal), {
        ...this.host.options.retry,
        signal,
        isRetryable: isTransientError,
      });
    } catch (error) {
      if (signal?.aborted) return;
      report(new DescribeStreamError(this.host.streamArn(), error));
    }
    if (listing) await this.applyListing(listing);
    await this.resolveUnknownParents(signal, report);
    if (listing) await this.followTable(signal, report);
  }

  /** With `followTable`: a disabled, drained stream gives way to the table's newer stream. */
  private async followTable(signal: AbortSignal | undefined, report: (error: Error) => void): Promise<void> {
    const follow = this.host.options.followTable;
    if (!follow || this.status !== 'DISABLED') return;
    if (Object.values(this.host.state()).some((p) => !p.retired)) return;
    let latest: string | undefined;
    try {
      const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
      const out = await follow.dynamodb.send(
        new DescribeTableCommand({ TableName: follow.tableName }),
        signal ? { abortSignal: signal } : {},
      );
      latest = out.Table?.StreamSpecification?.StreamEnabled ? out.Table.LatestStreamArn : undefined;
    } catch (error) {
      if (!signal?.aborted) report(new DescribeStreamError(this.host.streamArn(), error));
      return;
    }
    if (!latest || latest === this.host.streamArn()) return;
    const previousStreamArn = this.host.streamArn();
    this.status = undefined;
    this.directory.reset();
    this.host.switchTo(latest);
    await this.host.emit('stream changed', [{ previousStreamArn, streamArn: latest }]);
    await this.discover(signal, report);
  }

  private async applyListing(listing: StreamListing): Promise<void> {
    const { added, vanished, forgotten } = this.directory.reconcile(
      this.host.state(),
      listing,
      this.host.streamArn(),
    );
    if (forgotten.length > 0) this.host.markDirty();
    if (added.length > 0) {
      this.host.markDirty();
      const closedAtStart: string[] = [];
      if (this.firstStart && this.host.options.startingPosition === 'LATEST') {
        for (const id of added) {
          const p = this.host.state()[id]!;
          if (p.closed) {
            p.retired = true;
            closedAtStart.push(id);
          }
        }
        // Only shards readable now start at LATEST. A child listed while its parent still shows as open is read
        // after that parent, from TRIM_HORIZON: at LATEST it would skip what it received in the meantime.
        for (const id of added) {
          if (lineageGate(this.host.state(), id) === 'readable') this.host.useLatest(id);
        }
      }
      await this.host.emit('new shards', [added]);
      if (closedAtStart.length > 0) await this.host.emit('remove shards', [closedAtStart]);
    }
    this.firstStart = false;
    for (const id of vanished) await this.host.vanish(id, undefined);
    if (listing.status !== undefined && listing.status !== this.status) {
      this.status = listing.status;
      await this.host.emit('stream status', [listing.status]);
    }
  }

  /**
   * A child whose parent the state does not know: a listing may have left the parent out. Ask the service: a
   * parent that still exists is read first; one that does not (expired long ago) no longer holds the child back.
   */
  private async resolveUnknownParents(signal: AbortSignal | undefined, report: (error: Error) => void) {
    const ctx = this.host.readContext(signal);
    for (;;) {
      const unknown = new Set<string>();
      for (const id of Object.keys(this.host.state())) {
        if (lineageGate(this.host.state(), id) === 'unknown-parent')
          unknown.add(this.host.state()[id]!.parentShardId!);
      }
      if (unknown.size === 0 || signal?.aborted) return;
      let progressed = false;
      for (const parent of unknown) {
        if (childHasProgress(this.host.state(), parent)) {
          // A child was read, so this parent was drained before: no need to ask.
          this.host.state()[parent] = { streamArn: this.host.streamArn(), retired: true };
          progressed = true;
          continue;
        }
        try {
          const exists = await shardExists(ctx, parent);
          this.host.state()[parent] = exists
            ? { streamArn: this.host.streamArn() }
            : { streamArn: this.host.streamArn(), retired: true };
          this.host.markDirty();
          progressed = true;
        } catch (error) {
          if (!signal?.aborted) report(new DescribeStreamError(this.host.streamArn(), error));
        }
      }
      if (!progressed) return;
    }
  }
}
