/**
 * `@kinesis-archive/example-cli`: the `kinesis-archive` command, `pnpm demo`, and a local Kinesis event source
 * runner you can point at your own Lambda handlers in tests.
 *
 * @packageDocumentation
 */
export * from './event-source-runner.js';
