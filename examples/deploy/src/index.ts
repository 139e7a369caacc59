/**
 * The kinesis-archive CDK app's constructs: {@link KinesisArchiveStack} and {@link HandlerFunction}.
 *
 * @packageDocumentation
 */
export type { HandlerFunctionProps } from './function.js';
export { HandlerFunction } from './function.js';
export { handlerEntries } from './paths.js';
export {
  dynamodbStreamPollerActions,
  functionActions,
  kinesisPollerActions,
  logActions,
  onFailureQueueActions,
} from './permissions.js';
export type { KinesisArchiveStackProps } from './stack.js';
export { ARCHIVE_SORT_KEY, KinesisArchiveStack } from './stack.js';
