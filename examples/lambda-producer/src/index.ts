/**
 * Example producer of the generic Kinesis pipeline: application events in, shard-aware KPL aggregates out through
 * `KinesisWriter`.
 *
 * @packageDocumentation
 */
export type { ProducerResponse } from './handler.js';
export { handler } from './handler.js';
export type { ParsedInput, ProducerEvent, RejectedEvent } from './input.js';
export { ProducerInputError, parseProducerInput } from './input.js';
export { producerActions } from './permissions.js';
export type { FailedEvent, ProduceResult, Producer, ProducerOptions } from './producer.js';
export { createProducer } from './producer.js';
export { ShardMapCache } from './shard-map-cache.js';
