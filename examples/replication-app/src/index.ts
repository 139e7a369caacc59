/**
 * Example replication app: keeps a copy of a DynamoDB table from its stream with `@kinesis-archive/dynamodb-stream`,
 * as a long-running process ({@link startReplication}) or as a DynamoDB Streams-triggered Lambda
 * ({@link createReplicationHandler}).
 *
 * @packageDocumentation
 */
export type {
  DynamoDBStreamEvent,
  DynamoDBStreamEventRecord,
  LambdaAttributeValue,
  ReplicationHandlerOptions,
} from './lambda.js';
export { createReplicationHandler, UnapplicableChangeError } from './lambda.js';
