/**
 * Example replication app: keeps a copy of a DynamoDB table from its stream with `@kinesis-archive/dynamodb-stream`,
 * as a long-running process ({@link startReplication}) or as a DynamoDB Streams-triggered Lambda
 * ({@link createReplicationHandler}).
 *
 * @packageDocumentation
 */

export { formatChange } from './format.js';
export type { ReplicationHandlerOptions } from './lambda.js';
export { createReplicationHandler, UnapplicableChangeError } from './lambda.js';
export { replicationActions } from './permissions.js';
export type { ReplicatedChange, Replication, ReplicationOptions } from './replication.js';
export { startReplication } from './replication.js';
export { ensureTargetTable } from './tables.js';
