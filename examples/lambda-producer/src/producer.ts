import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type AggregatedRecord, Aggregator, deaggregate } from '@kinesis-archive/agg';
import { AbortError } from '@kinesis-archive/core';
import {
  KinesisWriter,
  type KinesisWriterOptions,
  type WriterRecord,
  WriterStoppedError,
} from '@kinesis-archive/replay';
import type { ProducerEvent } from './input.js';
import { ShardMapCache } from './shard-map-cache.js';

/** Options of {@link createProducer}. */
export interface ProducerOptions {
  /** Your configured Kinesis client. */
  kinesis: KinesisClient;
  /** The stream the events go to. */
  streamName: string;
  /** How long the shard map is reused before it is reloaded (ListShards). Default 60 s. */
  shardMapMaxAgeMs?: number;
  /** Largest Kinesis record (data + partition key). Default 1 MiB. */
  maxBytes?: number;
  /** Tuning of the underlying `KinesisWriter` (concurrency, retry, rate limiter, ...). */
  writer?: Omit<
    KinesisWriterOptions,
    'kinesis' | 'streamName' | 'streamARN' | 'onSent' | 'onFailed' | 'onUnsent' | 'resend'
  >;
}

/** An event that did not reach the stream. */
export interface FailedEvent {
  /** The event's key. */
  key: string;
  /**
   * Why: an invalid key or hash key, an event too large, a put that kept failing, the writer's `signal` aborted
   * before it was sent (`AbortError`, code `ABORTED`), or a request failed for every record (stream not found,
   * access denied: the Kinesis error itself, and the send stops at once) (typed errors).
   */
  error: Error;
}

/** What {@link Producer.send} did. `sent + failed.length` = the events given. */
export interface ProduceResult {
  /** Events given. */
  received: number;
  /** Events Kinesis acknowledged. */
  sent: number;
  /** Kinesis records written (KPL aggregates and lone events). */
  kinesisRecords: number;
  /** `PutRecords` entries re-sent after partial failures or throttling. */
  retries: number;
  /**
   * Events sent a second time, un-aggregated, because their aggregate landed on another shard than it was built
   * for (the stream was resharded): a KCL consumer would discard them there. At-least-once, as the KPL does.
   */
  resent: number;
  /** Events that were not sent, with their errors. Never dropped silently. */
  failed: FailedEvent[];
}

/** Aggregates application events per shard and puts them on a stream. */
export interface Producer {
  /** Sends the events (the order of each key is kept) and resolves when all are acknowledged or given up on. */
  send(events: readonly ProducerEvent[]): Promise<ProduceResult>;
}

type Outgoing = AggregatedRecord & WriterRecord;

function payloadBytes(payload: unknown): Uint8Array | string {
  if (typeof payload === 'string' || payload instanceof Uint8Array) return payload;
  return JSON.stringify(payload);
}

/** The user events inside a Kinesis record that failed (an aggregate is unpacked to name each one). */
function eventsOf(record: Outgoing, error: Error): FailedEvent[] {
  return unpack(record).map((r) => ({ key: r.partitionKey, error }));
}

/** The user events of an outgoing record, each as a lone record (an aggregate is unpacked). */
function unpack(record: Outgoing): Outgoing[] {
  if (record.recordCount === 1) return [record];
  return deaggregate({ data: record.data, partitionKey: record.partitionKey }).map((r) => ({
    partitionKey: r.partitionKey,
    data: r.data,
    ...(r.explicitHashKey !== undefined ? { explicitHashKey: r.explicitHashKey } : {}),
    recordCount: 1,
    // still held behind the records built for the same shard
    orderingKeys: record.orderingKeys ?? [r.partitionKey],
  }));
}

/**
 * Creates a producer for the "generic Kinesis pipeline": events are packed into KPL aggregates per shard (so a
 * consumer never loses an aggregate after a reshard) and written with `KinesisWriter` of `@kinesis-archive/replay`,
 * which batches `PutRecords`, retries partial failures and keeps each shard's (hence each key's) order.
 *
 * @example
 * ```ts
 * const producer = createProducer({ kinesis: new KinesisClient({}), streamName: 'events' });
 * const result = await producer.send([{ key: 'user-1', payload: { clicked: 'buy' } }]);
 * ```
 */
export function createProducer(options: ProducerOptions): Producer {
  const shardMaps = new ShardMapCache(
    options.kinesis,
    options.streamName,
    options.shardMapMaxAgeMs ?? 60_000,
  );
  return {
    async send(events) {
      const shardMap = await shardMaps.get();
      const aggregator = new Aggregator({
        shardMap,
        ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
      });
      const result: ProduceResult = {
        received: events.length,
        sent: 0,
        kinesisRecords: 0,
        retries: 0,
        resent: 0,
        failed: [],
      };
      const writer = new KinesisWriter<Outgoing>({
        ...options.writer,
        kinesis: options.kinesis,
        streamName: options.streamName,
        ...(options.maxBytes ? { maxRecordBytes: options.maxBytes } : {}),
        resend: (record, info) => {
          if (!record.shardId || !info.shardId || info.shardId === record.shardId) return undefined;
          // Another shard than predicted: the stream was resharded; reload the map before the next send.
          shardMaps.markStale();
          if (record.recordCount === 1) return undefined;
          // The sub-records hashed to the other child are discarded by a KCL consumer: send each on its own.
          const again = unpack(record);
          result.resent += again.length;
          return again;
        },
        onSent: (record) => {
          result.sent += record.recordCount;
          result.kinesisRecords++;
        },
      });
      // Set once the writer stopped (a fatal error) or aborted: what is left is reported with it, not sent.
      let stoppedBy: Error | undefined;
      // One shard's records are sent in order, and a key always maps to one shard: that keeps each key's order.
      const put = async (records: AggregatedRecord[]) => {
        for (const record of records) {
          // The map had no shard for this event's key: it went out un-aggregated (Kinesis routes it); reload
          // the map before the next send.
          if (record.staleShardMap) shardMaps.markStale();
          const outgoing: Outgoing = { ...record, orderingKeys: [record.shardId ?? record.partitionKey] };
          if (stoppedBy === undefined) {
            try {
              await writer.put(outgoing);
              continue;
            } catch (error) {
              if (!(error instanceof WriterStoppedError || error instanceof AbortError)) throw error;
              stoppedBy = error instanceof WriterStoppedError ? (error.cause as Error) : error;
            }
          }
          result.failed.push(...eventsOf(outgoing, stoppedBy));
        }
      };
      for (const event of events) {
        if (stoppedBy !== undefined) {
          result.failed.push({ key: event.key, error: stoppedBy });
          continue;
        }
        let completed: AggregatedRecord[];
        try {
          completed = aggregator.add({
            partitionKey: event.key,
            data: payloadBytes(event.payload),
            ...(event.explicitHashKey !== undefined ? { explicitHashKey: event.explicitHashKey } : {}),
          });
        } catch (error) {
          result.failed.push({ key: event.key, error: error as Error });
          continue;
        }
        await put(completed);
      }
      await put(aggregator.flush());
      const stats = await writer.close();
      result.retries = stats.retries;
      for (const { record, error } of stats.failed) result.failed.push(...eventsOf(record, error));
      // Records the writer still held when it stopped or its signal aborted were not sent: report them too.
      if (stats.unsent.length > 0) {
        const why = stats.stoppedBy ?? new AbortError(options.writer?.signal?.reason);
        for (const record of stats.unsent) result.failed.push(...eventsOf(record, why));
      }
      return result;
    },
  };
}
