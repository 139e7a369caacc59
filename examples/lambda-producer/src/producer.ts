import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type AggregatedRecord, Aggregator, deaggregate } from '@kinesis-archive/agg';
import { AbortError } from '@kinesis-archive/core';
import { KinesisWriter, type KinesisWriterOptions, type WriterRecord } from '@kinesis-archive/replay';
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
  writer?: Omit<KinesisWriterOptions, 'kinesis' | 'streamName' | 'streamARN' | 'onSent' | 'onFailed'>;
}

/** An event that did not reach the stream. */
export interface FailedEvent {
  /** The event's key. */
  key: string;
  /**
   * Why: an invalid key or hash key, an event too large, a put that kept failing, or the writer's `signal` aborted
   * before it was sent (`AbortError`, code `ABORTED`) (typed errors).
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
  if (record.recordCount === 1) return [{ key: record.partitionKey, error }];
  return deaggregate({ data: record.data, partitionKey: record.partitionKey }).map((r) => ({
    key: r.partitionKey,
    error,
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
        failed: [],
      };
      const writer = new KinesisWriter<Outgoing>({
        ...options.writer,
        kinesis: options.kinesis,
        streamName: options.streamName,
        ...(options.maxBytes ? { maxRecordBytes: options.maxBytes } : {}),
        onSent: (record, info) => {
          result.sent += record.recordCount;
          result.kinesisRecords++;
          // Another shard than predicted: the stream was resharded; reload the map before the next send.
          if (record.shardId && info.shardId && info.shardId !== record.shardId) shardMaps.markStale();
        },
      });
      // One shard's records are sent in order, and a key always maps to one shard: that keeps each key's order.
      const put = (records: AggregatedRecord[]) =>
        Promise.all(
          records.map((record) => {
            // The map had no shard for this event's key: it went out un-aggregated (Kinesis routes it); reload
            // the map before the next send.
            if (record.staleShardMap) shardMaps.markStale();
            return writer.put({ ...record, orderingKeys: [record.shardId ?? record.partitionKey] });
          }),
        );
      for (const event of events) {
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
      // Records the writer still held when its signal aborted were not sent: report them too.
      if (stats.unsent.length > 0) {
        const aborted = new AbortError(options.writer?.signal?.reason);
        for (const record of stats.unsent) result.failed.push(...eventsOf(record, aborted));
      }
      return result;
    },
  };
}
