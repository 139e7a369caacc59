/**
 * Example Kinesis -> DynamoDB archiver Lambda over `createArchiveHandler` of `@kinesis-archive/archive`.
 *
 * @packageDocumentation
 */
export type { ArchiverEnvConfig, ArchiverMode } from './config.js';
export { ArchiverConfigError, archiverConfigFromEnv } from './config.js';
export type { ArchiverHandler, CreateHandlerOptions } from './handler.js';
export { createHandler, handler } from './handler.js';
export { archiverActions } from './permissions.js';
