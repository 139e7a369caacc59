/**
 * `@kinesis-archive/local`: real local stand-ins for AWS (kinesis-mock for Kinesis, DynamoDB Local for DynamoDB and
 * DynamoDB Streams) on free ports, and a fault-injecting proxy, for tests, demos and exploring by hand.
 *
 * @packageDocumentation
 */
export type { ActionRecorder, ClientWithMiddleware } from './actions.js';
export { iamActionOf, recordActions } from './actions.js';
export type { LocalAwsEndpoints, LocalClients, LocalClientsOptions } from './clients.js';
export { createLocalClients, LOCAL_CREDENTIALS, localAwsEnv } from './clients.js';
export { JavaNotFoundError, StandInStartError } from './errors.js';
export type { FaultCounts } from './fault-counts.js';
export type { FaultProxy, FaultProxyOptions } from './fault-proxy.js';
export { InvalidProxyTargetError, startFaultProxy } from './fault-proxy.js';
export type { FaultKind, FaultRule } from './fault-rules.js';
export { InvalidFaultRuleError } from './fault-rules.js';
export { LOCAL_ENDPOINTS_ENV, localAwsFromVitest } from './from-env.js';
export { uniqueName } from './names.js';
export { freePort } from './ports.js';
export { seededRandom } from './prng.js';
export type { LocalAws, StandInExit, StartLocalAwsOptions } from './start.js';
export { checkJava, startLocalAws } from './start.js';
export type { CreateStreamOptions, ShardRecords } from './streams.js';
export { createStream, readStream } from './streams.js';
