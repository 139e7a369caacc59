/**
 * `@kinesis-archive/dynamodb-stream`: a DynamoDB Streams consumer that never loses or reorders a change. Event
 * emitter and async iterator of batches, shard state of sequence numbers, parents drained before children,
 * checkpoints (in memory or in DynamoDB, with conflict detection), a table replica helper (resumable from a
 * checkpoint) and Lambda DynamoDB Streams event types with {@link fromLambdaRecord} and its inverse, the test-event factory
 * {@link toDynamoDBStreamEventRecord}.
 *
 * @packageDocumentation
 */
export type { CheckpointStore } from './checkpoint-store.js';
export { InMemoryCheckpointStore } from './checkpoint-store.js';
export type { DynamoDBCheckpointStoreOptions } from './dynamodb-checkpoint-store.js';
export { DynamoDBCheckpointStore } from './dynamodb-checkpoint-store.js';
export {
  CheckpointConflictError,
  CheckpointSaveError,
  ConsumerStateError,
  DescribeStreamError,
  InvalidShardStateError,
  ListenerError,
  RecordDecodeError,
  ShardReadError,
} from './errors.js';
export type { ChangeBatch } from './iterator.js';
export type {
  DynamoDBBatchResponse,
  DynamoDBStreamEvent,
  DynamoDBStreamEventRecord,
  FromLambdaRecordOptions,
  LambdaAttributeValue,
} from './lambda.js';
export { fromLambdaRecord } from './lambda.js';
export type { DynamoDBEventSourceInfo } from './lambda-event.js';
export { toDynamoDBStreamEventRecord } from './lambda-event.js';
export type { Lease } from './lease-table.js';
export { LeaseTable, SHARD_END } from './lease-table.js';
export type { LeaseCounts, LeaseOptions } from './leases.js';
export type { ConsumerPhase } from './lifecycle.js';
export type { DataLossInfo } from './reader.js';
export type { ChangeIdentity, ChangeRecord, ChangeType, Image, UnmarshallSetting } from './records.js';
export { exactNumbers } from './records.js';
export type { ReplicaChange, ReplicaStart, TableReplicaOptions } from './replica.js';
export { ReplicaConfigError, TableReplica } from './replica.js';
export type { ShardProgress, ShardState } from './shard-state.js';
export { parseShardState } from './shard-state.js';
export type { StreamStatus, StreamsClient } from './shard-tracker.js';
export type { PoisonInfo, PoisonOptions } from './shard-worker.js';
export { DynamoDBStream } from './stream.js';
export type {
  CatchUpOptions,
  DynamoDBStreamEvents,
  DynamoDBStreamOptions,
  PollOptions,
  StreamChangedInfo,
} from './stream-types.js';
